import type { Logger } from 'pino';
import { isDatabaseUnreachable } from '../db/errors';

export interface RetryOptions {
  sleep?: (ms: number) => Promise<void>;
  maxDelayMs?: number;
}

/**
 * Runs `start` until it succeeds or fails for another reason than the database being unreachable (issue 28: a
 * Postgres down during a deploy made every replica exit 1, a crash loop). Each wait doubles, up to `maxDelayMs`.
 */
export async function retryWhileDatabaseUnreachable<T>(
  start: () => Promise<T>,
  logger: Logger,
  { sleep = (ms) => new Promise((r) => setTimeout(r, ms)), maxDelayMs = 15_000 }: RetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!isDatabaseUnreachable(err)) throw err;
      const delayMs = Math.min(500 * 2 ** (attempt - 1), maxDelayMs);
      logger.warn(
        { attempt, retry_in_ms: delayMs },
        'database not reachable at start-up: /readyz answers 503 until it is; retrying',
      );
      await sleep(delayMs);
    }
  }
}
