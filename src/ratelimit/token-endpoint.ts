import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { budgetExhausted, countersUnavailable } from './refusals';

/**
 * The gateway's calls to the identity provider's token endpoint (issue 24), across every address and instance: a
 * flood of sign-ins, even from many addresses, makes at most this many code exchanges a minute, so the IdP never
 * throttles the gateway's client (which would stop sign-in for everyone for longer than this budget does).
 */
export interface TokenEndpointBudget {
  /** Counts one code exchange; throws rate_limited (token_endpoint_budget_exhausted) when the minute's are spent. */
  take(): Promise<void>;
}

const WINDOW_MS = 60_000;
const KEY = 'token-endpoint';

export function createTokenEndpointBudget(options: {
  store: Store;
  perMinute: number;
  /** RATE_LIMIT_STORE_FAILURE is not `closed`: a sign-in passes while the counters are unreachable. */
  passesWhenStoreFails: boolean;
  logger: Logger;
}): TokenEndpointBudget {
  const { store, perMinute } = options;
  if (perMinute <= 0) return { take: async () => undefined };
  const ready = Promise.resolve(store.init?.({ windowMs: WINDOW_MS } as never)).catch(() => undefined);
  return {
    async take() {
      await ready;
      let hits: { totalHits: number; resetTime?: Date };
      try {
        hits = await store.increment(KEY);
      } catch (err) {
        if (options.passesWhenStoreFails) return;
        throw countersUnavailable(options.logger, 'token_endpoint', err);
      }
      if (hits.totalHits > perMinute) throw budgetExhausted('token_endpoint', hits.resetTime, WINDOW_MS);
    },
  };
}
