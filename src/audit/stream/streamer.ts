import type { Logger } from 'pino';
import type { StoredEntry } from '../trail/entry';
import type { AuditWatchMetrics } from '../../metrics/audit-watch';
import type { SinkCursors } from './cursor';
import type { SinkSpec } from './sinks';
import { SinkError, type Outgoing, type Transport } from './transport';

export interface StreamerTiming {
  /** How long a lease runs unless renewed; the holder renews it before every batch. */
  leaseMs: number;
  /** A send must end this long before the lease does, so a late batch never overlaps the next holder's. */
  leaseMarginMs: number;
  /** Longest wait for one batch to be acknowledged. */
  sendTimeoutMs: number;
  /** How often an idle holder looks for new entries, and a non-holder for a lease run out. */
  pollMs: number;
  /** Backoff after a failed batch: firstMs × 2^(n-1), at most maxMs, each with up to half of it taken off at random. */
  backoffFirstMs: number;
  backoffMaxMs: number;
}

export const STREAMER_TIMING: StreamerTiming = {
  leaseMs: 20_000,
  leaseMarginMs: 2_000,
  sendTimeoutMs: 10_000,
  pollMs: 500,
  backoffFirstMs: 250,
  backoffMaxMs: 10_000,
};

export interface StreamerDeps {
  spec: SinkSpec;
  transport: Transport;
  format(entry: StoredEntry): string;
  cursors: SinkCursors;
  readChain(afterSeq: bigint, limit: number): Promise<StoredEntry[]>;
  recordSystem(action: string, details: Record<string, unknown>): Promise<unknown>;
  logger: Logger;
  metrics: AuditWatchMetrics;
  /** This instance's name in the lease (host, pid and a random part). */
  owner: string;
  batchSize: number;
  timing?: Partial<StreamerTiming>;
  random?: () => number;
}

export interface Streamer {
  /** Ends the loop, waits for a batch in flight, and gives the lease back so another instance takes over at once. */
  stop(): Promise<void>;
}

/** The delay before sending again after `failures` failed batches in a row: exponential, with jitter. */
export function backoffMs(
  failures: number,
  t: Pick<StreamerTiming, 'backoffFirstMs' | 'backoffMaxMs'>,
  random: () => number,
) {
  const ceiling = Math.min(t.backoffMaxMs, t.backoffFirstMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/**
 * One sink's loop: renew the lease, read the entries after the sink's cursor from the trail, send them as one
 * batch, move the cursor once acknowledged. At least once and in sequence order: a batch that is not acknowledged is
 * sent again whole, so the only duplicates are those of one re-sent batch. Requests never wait for it.
 */
export function startStreamer(deps: StreamerDeps): Streamer {
  const t = { ...STREAMER_TIMING, ...deps.timing };
  const random = deps.random ?? Math.random;
  const { spec, cursors, logger, metrics, owner } = deps;
  const sink = spec.id;
  let stopped = false;
  let failures = 0;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function system(action: string, details: Record<string, unknown>) {
    await deps.recordSystem(action, { sink, ...details }).catch((err: unknown) => {
      logger.error({ err, sink, action }, 'the audit sink system entry could not be recorded');
    });
  }

  /** One turn of the loop; the answer is how long to wait before the next. */
  async function turn(): Promise<number> {
    const leasedAt = Date.now();
    const state = await cursors.lease(sink, owner, t.leaseMs);
    const head = await cursors.head();
    metrics.sinkLag.set({ sink }, Number(head - state.ackedSeq));
    if (!state.held) return t.pollMs;
    const entries = await deps.readChain(state.ackedSeq, deps.batchSize);
    if (entries.length === 0) {
      if (state.failingSince && (await cursors.markFailing(sink, owner, null))) {
        logger.info({ sink }, 'audit sink caught up');
        await system('audit.sink_caught_up', { failing_since: state.failingSince.toISOString() });
      }
      return t.pollMs;
    }
    const batch: Outgoing[] = entries.map((e) => ({ seq: e.seq, at: e.at, kind: e.kind, line: deps.format(e) }));
    const deadline = Math.min(leasedAt + t.leaseMs - t.leaseMarginMs, Date.now() + t.sendTimeoutMs);
    try {
      await deps.transport.send(batch, deadline);
    } catch (err) {
      failures++;
      const failure = err instanceof SinkError ? err.failure : 'unreachable';
      metrics.sinkFailures.inc({ sink, failure });
      const wait = backoffMs(failures, t, random);
      logger.warn(
        { sink, failure, failures, retry_in_ms: wait, first_seq: String(batch[0]!.seq) },
        'audit sink did not take a batch; sending it again',
      );
      const since = new Date();
      if (!state.failingSince && (await cursors.markFailing(sink, owner, since))) {
        logger.error({ sink, failure }, 'audit sink failing: entries wait in the trail until it takes them');
        await system('audit.sink_failing', { failure, behind_from_sequence: String(batch[0]!.seq) });
      }
      return wait;
    }
    failures = 0;
    const last = batch[batch.length - 1]!.seq;
    if (await cursors.advance(sink, owner, last)) {
      metrics.sinkDelivered.inc({ sink }, batch.length);
      metrics.sinkLag.set({ sink }, Math.max(0, Number(head - last)));
    }
    return entries.length < deps.batchSize ? t.pollMs : 0;
  }

  const loop = (async () => {
    while (!stopped) {
      let wait: number;
      try {
        wait = await turn();
      } catch (err) {
        // The database (lease, cursor, trail) is unavailable: nothing is lost, the cursor stays where it was.
        logger.warn({ err, sink }, 'audit streaming could not reach the audit store; trying again');
        wait = backoffMs(Math.max(1, ++failures), t, random);
      }
      if (!stopped && wait > 0) await sleep(wait);
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await cursors.release(sink, owner).catch(() => undefined);
      await deps.transport.close().catch(() => undefined);
    },
  };
}
