/** What an audit entry is: one row of the chain, as the gateway builds it and as the verifier reads it back. */
import { byCodeUnit, canonicalJson } from './canonical-json';
import { CONTENT_COLUMNS } from './columns';

export const ENTRY_KINDS = ['request', 'response', 'decision', 'access', 'system', 'approval'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** How a call ended, as security reviewers filter on it. */
export const OUTCOMES = [
  'success',
  'upstream_error',
  'upstream_unavailable',
  'upstream_timeout',
  'upstream_bad_response',
  'denied',
  'invalid',
  'rate_limited',
  'not_forwarded',
  'outcome_unknown',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Every column but seq, key_id and hash, which the chain assigns. */
export interface EntryContent {
  at: string;
  kind: EntryKind;
  eventId: string;
  /** The gateway's own id of the request, unique per request. */
  requestId: string;
  /** The caller's X-Request-Id, if it sent a well-formed one: not unique, not trusted (issue 18). */
  clientRequestId: string | null;
  actorSub: string | null;
  actorName: string | null;
  actorEmail: string | null;
  actorRoles: string[];
  actorJti: string | null;
  actorIssuer: string | null;
  clientIp: string | null;
  userAgent: string | null;
  operation: string | null;
  method: string | null;
  path: string | null;
  applicationId: string | null;
  webhookId: string | null;
  apikeyFingerprint: string | null;
  requestBody: unknown;
  details: unknown;
  decision: 'allowed' | 'denied' | null;
  reason: string | null;
  outcome: Outcome | null;
  upstreamStatus: number | null;
  errorCode: string | null;
  latencyMs: number | null;
  fingerprints: string[];
  /** The team owning the application the entry is about, at the time; null when none (issue 12). */
  team: string | null;
  /** The approval request (two-person rule) the entry belongs to; null when none (issue 14). */
  approvalId: string | null;
}

export interface StoredEntry extends EntryContent {
  seq: bigint;
  keyId: string;
  hash: Buffer;
}

export const CONTENT_FIELDS: readonly (keyof EntryContent)[] = CONTENT_COLUMNS.map((c) => c.field);

/**
 * Fields added after entries were first written: hashed only when set, so an entry written before a field
 * existed (read back with it null) still hashes to what it was written with.
 */
export const LATER_FIELDS: ReadonlySet<keyof EntryContent> = new Set(
  CONTENT_COLUMNS.filter((c) => 'later' in c).map((c) => c.field),
);

/** The hashed object's keys in canonical order, with each key's JSON: worked out once, not sorted per entry. */
const HASHED_KEYS = (['seq', 'keyId', ...CONTENT_FIELDS] as string[])
  .sort(byCodeUnit)
  .map((name) => ({ name, json: `${JSON.stringify(name)}:`, later: LATER_FIELDS.has(name as keyof EntryContent) }));

/**
 * The bytes an entry's hash covers: its sequence number, the key id and every content field (a later field
 * only when set), as `canonicalJson({seq, keyId, ...fields})` writes them (a test holds the two to the same bytes).
 */
export function hashedContent(seq: bigint, keyId: string, content: EntryContent): string {
  const parts: string[] = [];
  for (const { name, json, later } of HASHED_KEYS) {
    const value = name === 'seq' ? seq.toString() : name === 'keyId' ? keyId : content[name as keyof EntryContent];
    if (value !== undefined && !(later && value === null)) parts.push(json + canonicalJson(value));
  }
  return `{${parts.join(',')}}`;
}

const clockOrigin = { epochUs: BigInt(Date.now()) * 1000n, hr: process.hrtime.bigint() };

/** Now, in UTC with microseconds (`2026-11-27T07:26:12.123456Z`), monotonic within the process. */
export function nowMicros(): string {
  const us = clockOrigin.epochUs + (process.hrtime.bigint() - clockOrigin.hr) / 1000n;
  const iso = new Date(Number(us / 1000n)).toISOString();
  return `${iso.slice(0, 23)}${String(us % 1000n).padStart(3, '0')}Z`;
}
