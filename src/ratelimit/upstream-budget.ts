import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { budgetExhausted, countersUnavailable } from './refusals';

export interface BudgetInfo {
  limit: number;
  remaining: number;
  resetTime?: Date;
}

/**
 * The shared DeveloperKey's budget towards the Management API, across everyone and every instance. Taken by every
 * forwarded call, whichever way it came in (a request, or an approved request executing): one meter, one path.
 */
export interface UpstreamBudget {
  /** Counts one call; throws rate_limited when the budget is spent, rate_limit_unavailable by the failure policy. */
  take(mutates: boolean): Promise<BudgetInfo | undefined>;
}

const WINDOW_MS = 1000;
const KEY = 'developer-key';

export function createUpstreamBudget(options: {
  store: Store;
  perSecond: number;
  /** RATE_LIMIT_STORE_FAILURE for this call's class: true lets it pass while the counters are unreachable. */
  passesWhenStoreFails: (mutates: boolean) => boolean;
  logger: Logger;
}): UpstreamBudget {
  const { store, perSecond } = options;
  if (perSecond <= 0) return { take: async () => undefined };
  const ready = Promise.resolve(store.init?.({ windowMs: WINDOW_MS } as never)).catch(() => undefined);
  return {
    async take(mutates) {
      await ready;
      let hits: { totalHits: number; resetTime?: Date };
      try {
        hits = await store.increment(KEY);
      } catch (err) {
        if (options.passesWhenStoreFails(mutates)) return undefined;
        throw countersUnavailable(options.logger, 'upstream', err);
      }
      if (hits.totalHits > perSecond) throw budgetExhausted('upstream', hits.resetTime, WINDOW_MS);
      return { limit: perSecond, remaining: Math.max(0, perSecond - hits.totalHits), resetTime: hits.resetTime };
    },
  };
}
