import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditWatchMetrics } from '../../metrics/audit-watch';
import type { Verification } from '../review/chain-verify';
import type { VerifyWalks } from '../review/chain-walks';
import type { FullVerificationStore, LastFullVerification } from './store';

export interface FullVerificationDeps {
  store: FullVerificationStore;
  /** The instance's one chain walk at a time (src/audit/review/chain-walks.ts), shared with `?checkpoint=` reviews. */
  walks: Pick<VerifyWalks, 'verify'>;
  recordSystem(action: string, details: Record<string, unknown>): Promise<unknown>;
  logger: Logger;
  metrics: AuditWatchMetrics;
  intervalS: number;
  /** How long the lease runs between renewals while a walk goes on. */
  leaseMs?: number;
}

export interface FullVerifier {
  /** One look: if a verification is due and no instance runs one, walk the chain now. The result, if it walked. */
  tick(): Promise<LastFullVerification | undefined>;
  stop(): Promise<void>;
}

/**
 * The trail watched (issue 25): every AUDIT_FULL_VERIFY_INTERVAL_S one instance (whichever takes the lease first)
 * re-walks the whole chain in byte-bounded pages, as `?full=true` would, so an old row edited by a database
 * superuser is found without anyone asking. The result is a metric, a `system` entry (streamed to the sinks like
 * any other) and `last_full_verification` in `GET /v1/audit/verify`. Every instance's metric shows the last result,
 * whichever instance produced it.
 */
export function scheduleFullVerification(deps: FullVerificationDeps): FullVerifier {
  const { store, logger, metrics } = deps;
  const leaseMs = deps.leaseMs ?? 60_000;
  const owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  const show = (last: LastFullVerification | null) => {
    if (!last) return;
    metrics.fullVerificationOk.set(last.ok ? 1 : 0);
    metrics.fullVerificationTimestamp.set(Date.parse(last.at) / 1000);
    metrics.fullVerificationEntries.set(last.entries);
  };

  async function walk(): Promise<Verification | undefined> {
    const renewal = setInterval(() => void store.renew(owner, leaseMs).catch(() => undefined), leaseMs / 3);
    try {
      const answer = deps.walks.verify();
      // An on-demand walk with a checkpoint is past its entry: try again on the next tick.
      return 'busy' in answer ? undefined : await answer;
    } finally {
      clearInterval(renewal);
    }
  }

  async function tick(): Promise<LastFullVerification | undefined> {
    if (!(await store.claimIfDue(owner, deps.intervalS, leaseMs))) {
      show(await store.last());
      return undefined;
    }
    const started = performance.now();
    let result: Verification | undefined;
    try {
      result = await walk();
    } finally {
      if (!result) await store.release(owner).catch(() => undefined);
    }
    if (!result) return undefined;
    const durationMs = Math.round(performance.now() - started);
    const last = await store.finish(owner, result, durationMs);
    if (!last) return undefined;
    show(last);
    if (last.ok) logger.info({ entries: last.entries, duration_ms: durationMs }, 'audit chain verified in full');
    else
      logger.error(
        { problem: last.problem, first_bad_sequence: last.first_bad_sequence, message: last.message },
        'audit chain verification FAILED: the trail was altered',
      );
    await deps.recordSystem('audit.full_verification', { ...last }).catch((err: unknown) => {
      logger.error({ err }, 'the full verification system entry could not be recorded');
    });
    return last;
  }

  // A tick at most every second, often enough that a due verification starts within a fifth of the interval.
  const every = Math.min(60_000, Math.max(1_000, (deps.intervalS * 1000) / 5));
  const timer = setInterval(() => {
    running = running.then(() =>
      stopped
        ? undefined
        : tick().catch((err: unknown) => logger.warn({ err }, 'background audit verification could not run')),
    );
  }, every);
  timer.unref();

  return {
    tick: () => {
      const next = running.then(tick);
      running = next.catch(() => undefined);
      return next;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
