import { randomUUID } from 'node:crypto';
import { redactPath } from '../../secrets/mask';
import { nowMicros, type EntryContent, type EntryKind } from '../trail/entry';
import type { AuditKeys } from '../trail/keys';
import { redactForAudit } from './redact';
import { withSessionMark } from './session-mark';
import { withTraceMark } from './trace-mark';

/** Who acted, as the trail names them (a verified token's or session's principal has these fields). */
export interface Actor {
  sub: string;
  name?: string;
  email?: string;
  roles: string[];
  jti?: string;
  issuer?: string;
  /** A signed-in browser's session id fingerprint (src/audit/recording/session-mark.ts). */
  session?: string;
}

/**
 * What an entry says, as plain values: who (actor, address), what (operation, method, path, input body), to which
 * target (params), and the decision. The web layer builds them from a request (src/pipeline/audit-facts.ts);
 * approvals build them from a stored request. The audit layer never sees Express.
 */
export interface EntryFacts {
  kind: EntryKind;
  eventId?: string;
  requestId: string;
  clientRequestId?: string | null;
  actor: Actor | null;
  clientIp?: string | null;
  userAgent?: string | null;
  operation: string | null;
  method?: string | null;
  /** As received: query, fragment and API key values are redacted here. */
  path?: string | null;
  params?: Readonly<Record<string, string>>;
  /** The input body; secrets in it are fingerprinted, never stored. */
  body?: unknown;
  details?: unknown;
  /** The request's trace (OpenTelemetry), when tracing is on: `details.trace_id`. */
  traceId?: string | null;
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
    path: f.path == null ? null : redactPath(f.path),
    applicationId: f.params?.application_id ?? null,
    webhookId: f.params?.webhook_id ?? null,
    apikeyFingerprint: keyPrint,
    requestBody: redacted?.value ?? null,
    details: withTraceMark(
      f.traceId,
      withSessionMark(f.actor, withDroppedCount(f.details ?? null, redacted?.fingerprintsDropped ?? 0)),
    ),
    decision: f.decision ?? null,
    reason: f.reason ?? null,
    outcome: null,
    upstreamStatus: null,
    errorCode: null,
    latencyMs: null,
    fingerprints: [...(keyPrint ? [keyPrint] : []), ...(redacted?.fingerprints ?? [])],
    team: f.team,
    approvalId: f.approvalId,
    clientRequestId: f.clientRequestId ?? null,
  };
}

/** Fingerprints past the cap are counted in `details`, so the entry says that some secrets went unrecorded. */
function withDroppedCount(details: unknown, dropped: number): unknown {
  if (dropped === 0) return details;
  const mark = { fingerprints_dropped: dropped };
  return details && typeof details === 'object' && !Array.isArray(details)
    ? { ...(details as Record<string, unknown>), ...mark }
    : mark;
}
