import type { Logger } from 'pino';
import { describe } from '../audit/trail/write-failures';
import type { Approvals } from './service';

const SWEEP_INTERVAL_MS = 15_000;

/**
 * Expires pending requests past their lifetime and marks executions that a crashed instance left half-done
 * `outcome_unknown` (never executed again), at start-up and then every 15 s. Each change commits an audit entry.
 */
export function scheduleApprovalSweeps(
  approvals: Approvals,
  logger: Logger,
  { staleAfterMs }: { staleAfterMs: number },
) {
  const sweep = async () => {
    try {
      const expired = await approvals.expireDue();
      const abandoned = await approvals.abandonStale(staleAfterMs);
      if (expired.length + abandoned.length > 0)
        logger.info(
          { expired: expired.map((a) => a.id), outcome_unknown: abandoned.map((a) => a.id) },
          'approval requests swept',
        );
    } catch (err) {
      logger.warn({ err: describe(err) }, 'approval sweep failed; it runs again shortly');
    }
  };
  const first = sweep();
  const timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  timer.unref();
  return { first, stop: () => clearInterval(timer) };
}
