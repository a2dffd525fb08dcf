import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { ipKeyGenerator, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { GatewayError } from '../errors/codes';
import { budgetExhausted, countersUnavailable } from './refusals';

export interface FailedAuthLimiter {
  /** After authentication: a refusal for want of a valid token counts against the address, and past the budget becomes 429. */
  countFailure: ErrorRequestHandler;
}

export interface FailedAuthOptions {
  store: Store;
  limit: number;
  windowMs: number;
  /** Whether a refused token is still answered 401 when the counters cannot be read (RATE_LIMIT_STORE_FAILURE). */
  passesWhenStoreFails: boolean;
  logger: Logger;
}

const TOKEN_REFUSALS = new Set(['unauthenticated', 'invalid_token']);

/**
 * Failed authentications per client address. Only refusals are counted, after they happen, and only refusals are
 * refused: a request with a valid token never touches the counter, so one client guessing (or holding an expired
 * token) behind a NAT, or behind a load balancer when TRUST_PROXY is unset, cannot lock out everyone else who
 * shares its address (issue 13, defect 2). An address past its budget gets 429 for each invalid token until the
 * window ends. A client that hangs up before its answer is not counted either (express-rate-limit's
 * skipSuccessfulRequests counted every request and un-counted it on `finish`, which never comes for an aborted
 * one). Uses express-rate-limit's stores, in memory or Redis.
 */
export function createFailedAuthLimiter({
  store,
  limit,
  windowMs,
  passesWhenStoreFails,
  logger,
}: FailedAuthOptions): FailedAuthLimiter {
  store.init?.({ windowMs } as never);
  const keyOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown', 56);
  const storeFailed = (err: unknown, next: NextFunction, refusal: unknown) =>
    next(passesWhenStoreFails ? refusal : countersUnavailable(logger, 'unauthenticated', err));

  return {
    countFailure: (err, req, _res: Response, next) => {
      if (!(err instanceof GatewayError) || !TOKEN_REFUSALS.has(err.code)) return next(err);
      Promise.resolve(store.increment(keyOf(req))).then(
        (hits) => next(hits.totalHits > limit ? budgetExhausted('unauthenticated', hits.resetTime, windowMs) : err),
        (storeErr: unknown) => storeFailed(storeErr, next, err),
      );
    },
  };
}
