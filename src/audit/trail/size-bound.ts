import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { hashedContent, type EntryContent } from './entry';

/**
 * The most an audit entry may take, stored: its content as the chain hashes it (canonical JSON, UTF-8), which is
 * what `audit_entry::text` holds give or take the sequence, key id and hash. The trail is append-only, so an
 * entry an attacker makes large stays large forever and every verification reads it again (issue 18, finding 1:
 * a 100 KB refused body stored 3.8 MB of fingerprints and a few hundred such rows took verify from 3 s to 143 s).
 */
export const MAX_ENTRY_BYTES = 64 * 1024;
/** A request body or details object larger than this is kept as a note: its size and SHA-256. */
export const MAX_FIELD_BYTES = 16 * 1024;
/** Distinct fingerprints one entry keeps; the number of others is kept in `details.fingerprints_dropped`. */
export const MAX_FINGERPRINTS = 32;
const TEXT_FIELDS = [
  'requestId',
  'actorSub',
  'actorName',
  'actorEmail',
  'actorJti',
  'actorIssuer',
  'clientIp',
  'userAgent',
  'operation',
  'method',
  'path',
  'applicationId',
  'webhookId',
  'apikeyFingerprint',
  'reason',
  'errorCode',
  'team',
] as const;

export interface BodyNote {
  omitted: true;
  reason: 'too large';
  bytes: number;
  sha256: string;
}

/**
 * The entry as it is stored: within MAX_ENTRY_BYTES whatever its kind, fingerprints distinct and at most
 * MAX_FINGERPRINTS. Every append goes through this (src/audit/trail/store.ts), so no caller can write a larger entry.
 * First fingerprints are capped and an oversized body or details object is replaced by a note; should the entry
 * still be too large (only headers and token claims are left), long strings are cut and the roles list
 * shortened, then more so: the last stage is within the bound whatever the input (a property test holds it).
 */
export function boundEntry(content: EntryContent): EntryContent {
  const fingerprints = [...new Set(content.fingerprints)];
  const dropped = previouslyDropped(content.details) + Math.max(0, fingerprints.length - MAX_FINGERPRINTS);
  const kept = fingerprints.length > MAX_FINGERPRINTS ? fingerprints.slice(0, MAX_FINGERPRINTS) : fingerprints;
  let bounded: EntryContent = {
    ...content,
    fingerprints: kept,
    requestBody: noteIfLarger(content.requestBody, MAX_FIELD_BYTES),
    details: withDropped(noteIfLarger(content.details, MAX_FIELD_BYTES), dropped),
  };
  for (const stage of CUT_STAGES) {
    if (entryBytes(bounded) <= MAX_ENTRY_BYTES) return bounded;
    bounded = cutDown(bounded, stage, dropped);
  }
  return bounded;
}

const CUT_STAGES = [
  { chars: 1024, roles: 64, fieldBytes: MAX_FIELD_BYTES },
  { chars: 128, roles: 16, fieldBytes: 1024 },
];

function cutDown(content: EntryContent, stage: (typeof CUT_STAGES)[number], dropped: number): EntryContent {
  const cut: Record<string, string | null> = {};
  for (const field of TEXT_FIELDS) cut[field] = cutText(content[field], stage.chars);
  const roles =
    content.actorRoles.length > stage.roles
      ? [...content.actorRoles.slice(0, stage.roles), `[${content.actorRoles.length - stage.roles} more]`]
      : content.actorRoles;
  return {
    ...content,
    ...(cut as Partial<EntryContent>),
    actorRoles: roles.map((r) => cutText(r, stage.chars) ?? r),
    requestBody: noteIfLarger(content.requestBody, stage.fieldBytes),
    details: withDropped(noteIfLarger(content.details, stage.fieldBytes), dropped),
  };
}

/**
 * Bytes of the entry's hashed content, its content fields only (a stored entry passed back in, as recovery does,
 * carries seq, key id and hash too: those are ~130 bytes more when stored).
 */
export function entryBytes(content: EntryContent): number {
  return Buffer.byteLength(hashedContent(0n, '', content));
}

function previouslyDropped(details: unknown): number {
  const count = isPlainObject(details) ? details.fingerprints_dropped : undefined;
  return typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 0;
}

/** Details with the count of fingerprints not kept (none: as they were). */
function withDropped(details: unknown, dropped: number): unknown {
  if (dropped === 0) return details;
  const base = isPlainObject(details) ? details : details === null || details === undefined ? {} : { value: details };
  return { ...base, fingerprints_dropped: dropped };
}

/** A value whose canonical JSON is larger than `limit`, as a note of that JSON's size and SHA-256. */
export function noteIfLarger(value: unknown, limit: number): unknown {
  if (value === null || value === undefined || typeof value !== 'object') return value ?? null;
  if (isNote(value)) return value;
  const json = canonicalJson(value);
  if (json.length <= limit / 3 || Buffer.byteLength(json) <= limit) return value; // the usual case: no hashing
  return noteOfJson(json);
}

/** The note a value is kept as when too large: the size and SHA-256 of its canonical JSON. */
export function noteOf(value: unknown): BodyNote {
  return noteOfJson(canonicalJson(value));
}

function noteOfJson(json: string): BodyNote {
  return {
    omitted: true,
    reason: 'too large',
    bytes: Buffer.byteLength(json),
    sha256: createHash('sha256').update(json).digest('hex'),
  };
}

/** Already a note (a recovered entry bounded again); a client's look-alike body is at most a few bytes more. */
function isNote(v: object): boolean {
  const n = v as Partial<BodyNote> & { fingerprints_dropped?: unknown };
  const keys = Object.keys(v).filter((k) => k !== 'fingerprints_dropped');
  return (
    keys.length === 4 &&
    n.omitted === true &&
    n.reason === 'too large' &&
    Number.isSafeInteger(n.bytes) &&
    /^[0-9a-f]{64}$/.test(n.sha256 ?? '') &&
    (n.fingerprints_dropped === undefined || Number.isSafeInteger(n.fingerprints_dropped))
  );
}

function cutText(text: string | null, chars: number): string | null {
  if (text === null || text.length <= chars) return text;
  return `${text.slice(0, chars).toWellFormed()}…[cut: ${Buffer.byteLength(text)} bytes, sha256 ${createHash('sha256').update(text).digest('hex')}]`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
