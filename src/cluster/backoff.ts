/**
 * How long the primary waits before replacing a worker that died. A death long after the previous one is replaced
 * at once; deaths in quick succession (a crash loop: a worker that dies at start-up, or a request that kills every
 * worker it reaches) wait 1 s, 2 s, 4 s … up to 30 s, so a loop costs a fork now and then, not the machine.
 */
export interface RestartBackoff {
  /** The delay before replacing the worker that died at `nowMs`. */
  delayAfterDeath(nowMs: number): number;
}

export interface BackoffOptions {
  /** Deaths further apart than this are not a loop. */
  quietMs: number;
  firstMs: number;
  maxMs: number;
}

export const RESTART_BACKOFF: BackoffOptions = { quietMs: 30_000, firstMs: 1_000, maxMs: 30_000 };

export function createRestartBackoff(o: BackoffOptions = RESTART_BACKOFF): RestartBackoff {
  let streak = 0;
  let lastDeathMs = -Infinity;
  return {
    delayAfterDeath(nowMs) {
      streak = nowMs - lastDeathMs > o.quietMs ? 0 : streak + 1;
      lastDeathMs = nowMs;
      return streak === 0 ? 0 : Math.min(o.maxMs, o.firstMs * 2 ** (streak - 1));
    },
  };
}
