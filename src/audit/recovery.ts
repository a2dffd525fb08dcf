import type { Logger } from 'pino';
import { nowMicros } from './entry';
import type { AuditStore } from './store';

/**
 * Request entries whose response entry was never written (the gateway died, or the database failed
 * just then) get one with outcome `outcome_unknown`. Only entries older than the upstream timeout plus
 * a margin are touched, so another running instance's in-flight requests are left alone.
 */
export async function completeAbandonedRequests(store: AuditStore, logger: Logger, upstreamTimeoutMs: number): Promise<number> {
  const before = new Date(Date.now() - upstreamTimeoutMs - 5_000).toISOString();
  const completed = await store.completeUnanswered(before, (request) => ({
    ...request,
    at: nowMicros(),
    kind: 'response',
    requestBody: null,
    outcome: 'outcome_unknown',
    errorCode: null,
    upstreamStatus: null,
    latencyMs: null,
    details: { recovered: true, request_seq: request.seq.toString(), reason: 'no response entry was written; the upstream may or may not have acted' },
  }));
  if (completed.length > 0) {
    logger.warn(
      { count: completed.length, events: completed.map((e) => ({ event_id: e.eventId, request_id: e.requestId, operation: e.operation })) },
      'audit: request entries without an outcome were marked outcome_unknown',
    );
  }
  return completed.length;
}
