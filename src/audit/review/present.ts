import type { AuditEvent } from '../trail/event-query';
import type { StoredEntry } from '../trail/entry';

/** An entry as the audit API shows it: snake_case, sequence as a string (it is a 64-bit integer), hash in hex. */
export function presentEntry(e: StoredEntry) {
  return {
    sequence: e.seq.toString(),
    time: e.at,
    kind: e.kind,
    event_id: e.eventId,
    request_id: e.requestId,
    client_request_id: e.clientRequestId,
    actor: {
      sub: e.actorSub,
      name: e.actorName,
      email: e.actorEmail,
      roles: e.actorRoles,
      jti: e.actorJti,
      issuer: e.actorIssuer,
    },
    client: { ip: e.clientIp, user_agent: e.userAgent },
    operation: e.operation,
    method: e.method,
    path: e.path,
    target: { application_id: e.applicationId, webhook_id: e.webhookId, apikey_fingerprint: e.apikeyFingerprint },
    request_body: e.requestBody,
    decision: e.decision,
    reason: e.reason,
    outcome: e.outcome,
    upstream_status: e.upstreamStatus,
    error_code: e.errorCode,
    latency_ms: e.latencyMs,
    details: e.details,
    fingerprints: e.fingerprints,
    team: e.team,
    approval_id: e.approvalId,
    key_id: e.keyId,
    hash: e.hash.toString('hex'),
  };
}

/** An event as the audit API shows it (the opening entry joined with its outcome). */
export function presentEvent(e: AuditEvent) {
  return {
    sequence: e.sequence.toString(),
    event_id: e.eventId,
    time: e.time,
    completed_at: e.completedAt,
    kind: e.kind,
    request_id: e.requestId,
    client_request_id: e.clientRequestId,
    actor: e.actor,
    client: { ip: e.client.ip, user_agent: e.client.userAgent },
    operation: e.operation,
    method: e.method,
    path: e.path,
    target: {
      application_id: e.target.applicationId,
      webhook_id: e.target.webhookId,
      apikey_fingerprint: e.target.apikeyFingerprint,
    },
    decision: e.decision,
    reason: e.reason,
    outcome: e.outcome,
    upstream_status: e.upstreamStatus,
    error_code: e.errorCode,
    latency_ms: e.latencyMs,
    team: e.team,
    approval_id: e.approvalId,
    ...(e.traceId ? { trace_id: e.traceId } : {}),
    entry_sequences: e.entrySequences.map(String),
  };
}
