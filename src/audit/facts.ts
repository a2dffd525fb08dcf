import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal';
import { nowMicros, type EntryContent, type EntryKind } from './entry';
import type { AuditKeys } from './keys';
import { redactForAudit } from './redact';
import { withSessionMark } from './session-mark';

/** What an entry says, as plain values: for entries written without an HTTP request of their own (approvals). */
export interface EntryFacts {
  kind: EntryKind;
  eventId?: string;
  requestId: string;
  actor: Principal | null;
  clientIp?: string | null;
  userAgent?: string | null;
  operation: string;
  method?: string | null;
  path?: string | null;
  params?: Record<string, string>;
  body?: unknown;
  details?: unknown;
  decision?: 'allowed' | 'denied' | null;
  reason?: string | null;
  team: string | null;
  approvalId: string | null;
}

/** The entry these facts make: the same columns an HTTP-driven entry fills, secrets fingerprinted the same way. */
export function entryFromFacts(keys: AuditKeys, f: EntryFacts): EntryContent {
  const apikey = f.params?.apikey_key;
  const redacted = f.body === undefined ? undefined : redactForAudit(keys, f.body);
  const keyPrint = apikey ? keys.fingerprint(apikey) : null;
  return {
    at: nowMicros(),
    kind: f.kind,
    eventId: f.eventId ?? randomUUID(),
    requestId: f.requestId,
    actorSub: f.actor?.sub ?? null,
    actorName: f.actor?.name ?? null,
    actorEmail: f.actor?.email ?? null,
    actorRoles: f.actor?.roles ?? [],
    actorJti: f.actor?.jti ?? null,
    actorIssuer: f.actor?.issuer ?? null,
    clientIp: f.clientIp ?? null,
    userAgent: f.userAgent?.slice(0, 512) ?? null,
    operation: f.operation,
    method: f.method ?? null,
    path: f.path ?? null,
    applicationId: f.params?.application_id ?? null,
    webhookId: f.params?.webhook_id ?? null,
    apikeyFingerprint: keyPrint,
    requestBody: redacted?.value ?? null,
    details: withSessionMark(f.actor, f.details ?? null),
    decision: f.decision ?? null,
    reason: f.reason ?? null,
    outcome: null,
    upstreamStatus: null,
    errorCode: null,
    latencyMs: null,
    fingerprints: [...(keyPrint ? [keyPrint] : []), ...(redacted?.fingerprints ?? [])],
    team: f.team,
    approvalId: f.approvalId,
    clientRequestId: null,
  };
}
