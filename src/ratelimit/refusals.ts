import type { Logger } from 'pino';
import { GatewayError } from '../errors/codes';

/** 429 for a spent budget, with Retry-After until the counter's window resets (`fallbackMs` when it is not known). */
export function budgetExhausted(
  counter: 'reads' | 'writes' | 'unauthenticated' | 'upstream' | 'token_endpoint',
  resetTime: Date | undefined,
  fallbackMs: number,
): GatewayError {
  const retryAfter = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + fallbackMs) - Date.now()) / 1000));
  return new GatewayError(
    'rate_limited',
    undefined,
    [{ reason: `${counter}_budget_exhausted` as const, retry_after_s: retryAfter }],
    { retryAfterS: retryAfter },
  );
}

/** 503 for a request refused because the counters could not be reached (RATE_LIMIT_STORE_FAILURE), logged. */
export function countersUnavailable(logger: Logger, counter: string, err: unknown): GatewayError {
  logger.warn(
    { counter, err: { message: (err as Error)?.message } },
    'rate limit counters unavailable: request refused',
  );
  return new GatewayError('rate_limit_unavailable', undefined, [{ reason: 'rate_limit_store_unavailable' }], {
    retryAfterS: 5,
  });
}
