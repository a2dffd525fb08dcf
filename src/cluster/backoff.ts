/**
 * How long the primary waits before replacing a worker that died. A worker that had served a while is replaced at
 * once; one that died soon after it was forked is part of a crash loop (a worker that cannot start, a request that
 * kills every worker it reaches), and each such death in a row waits twice as long: 1 s, 2 s, 4 s … up to 30 s.
 * A loop then costs a fork now and then, not the machine.
 */
export interface RestartBackoff {
  /** The delay before replacing a worker that lived `livedMs` after it was forked. */
  delayAfterDeath(livedMs: number): number;
}

export interface BackoffOptions {
  /** A worker that lived this long was not in a loop. */
  stableMs: number;
  firstMs: number;
  maxMs: number;
}

export const RESTART_BACKOFF: BackoffOptions = { stableMs: 30_000, firstMs: 1_000, maxMs: 30_000 };

export function createRestartBackoff(o: BackoffOptions = RESTART_BACKOFF): RestartBackoff {
  let quickDeaths = 0;
  return {
    delayAfterDeath(livedMs) {
      if (livedMs >= o.stableMs) {
        quickDeaths = 0;
        return 0;
      }
      quickDeaths += 1;
      return Math.min(o.maxMs, o.firstMs * 2 ** (quickDeaths - 1));
    },
  };
}
