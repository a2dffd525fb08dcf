import type { Logger } from 'pino';
import { nowMicros } from '../trail/entry';
import type { AuditStore } from '../trail/store';

export interface RecoveryTiming {
  upstreamTimeoutMs: number;
  writeTimeoutMs: number;
}

/**
 * Request entries whose response entry was never written (the gateway died, or the database failed just
 * then) get one with outcome `outcome_unknown`. Only entries older than the longest an in-flight request
 * can take (upstream timeout, two audit writes, a margin) are touched, so another running instance's
 * requests are left alone. Each pass reads only entries written since the previous pass looked; the
 * candidates are found without the chain lock and re-checked under it.
 */
export async function completeAbandonedRequests(
  store: AuditStore,
  logger: Logger,
  timing: RecoveryTiming,
): Promise<number> {
  const until = new Date(Date.now() - timing.upstreamTimeoutMs - 2 * timing.writeTimeoutMs - 5_000)
    .toISOString()
    .replace('Z', '000Z');
  const watermark = await store.recoveryWatermark();
  // Look back a little before the watermark: entries commit slightly after their timestamp.
  const from = watermark ? new Date(Date.parse(watermark) - 60_000).toISOString() : '-infinity';
  const candidates = await store.unansweredRequests(from, until);
  const completed = await store.completeUnanswered(candidates, (request) => ({
    ...request,
    at: nowMicros(),
    kind: 'response',
    requestBody: null,
    outcome: 'outcome_unknown',
    errorCode: null,
    upstreamStatus: null,
    latencyMs: null,
    details: {
      recovered: true,
      request_seq: request.seq.toString(),
      reason: 'no response entry was written; the upstream may or may not have acted',
    },
  }));
  await store.setRecoveryWatermark(until);
  if (completed.length > 0) {
    logger.warn(
      {
        count: completed.length,
        events: completed.map((e) => ({ event_id: e.eventId, request_id: e.requestId, operation: e.operation })),
      },
      'audit: request entries without an outcome were marked outcome_unknown',
    );
  }
  return completed.length;
}

/** Runs recovery now and then every `everyMs`; a failure is logged and retried next time, never fatal. */
export function scheduleRecovery(
  store: AuditStore,
  logger: Logger,
  timing: RecoveryTiming,
  everyMs = 60_000,
): { stop(): void; first: Promise<void> } {
  const run = () =>
    completeAbandonedRequests(store, logger, timing).then(
      () => undefined,
      (err: Error) =>
        logger.error(
          { err: { message: err.message.split('\n').filter(Boolean).slice(-1)[0] } },
          'audit recovery pass failed; will retry',
        ),
    );
  const first = run();
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer), first };
}
