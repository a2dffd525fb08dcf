import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { GatewayError } from '../http/errors';
import { budgetExhausted, countersUnavailable } from './refusals';

export interface FailedAuthLimiter {
  /** Before authentication: an address that has used its budget of failures waits out the window, whatever it sends. */
  gate: RequestHandler;
  /** After authentication: a refusal for want of a valid token counts against the address. */
  countFailure: ErrorRequestHandler;
}

export interface FailedAuthOptions {
  store: Store;
  limit: number;
  windowMs: number;
  /** Whether a request goes on when the counters cannot be read (RATE_LIMIT_STORE_FAILURE). */
  passesWhenStoreFails: boolean;
  logger: Logger;
}

const TOKEN_REFUSALS = new Set(['unauthenticated', 'invalid_token']);

/**
 * Failed authentications per client address. Only refusals are counted, after they happen: a request with a
 * good token costs one read of the counter and is never counted, so a client that hangs up before its answer
 * is not taken for a guesser (express-rate-limit's skipSuccessfulRequests counted every request and un-counted
 * it on `finish`, which never comes for an aborted one). Uses express-rate-limit's stores, in memory or Redis.
 */
export function createFailedAuthLimiter({ store, limit, windowMs, passesWhenStoreFails, logger }: FailedAuthOptions): FailedAuthLimiter {
  store.init?.({ windowMs } as never);
  const keyOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown', 56);
  const exhausted = (resetTime: Date | undefined) => budgetExhausted('unauthenticated', resetTime, windowMs);
  const storeFailed = (err: unknown, next: NextFunction, otherwise?: unknown) =>
    next(passesWhenStoreFails ? otherwise : countersUnavailable(logger, 'unauthenticated', err));

  return {
    gate: (req, _res, next) => {
      let info;
      try {
        info = store.get!(keyOf(req));
      } catch (err) {
        return storeFailed(err, next);
      }
      Promise.resolve(info).then(
        (hits) => next(hits && hits.totalHits >= limit && (hits.resetTime?.getTime() ?? Infinity) > Date.now() ? exhausted(hits.resetTime) : undefined),
        (err: unknown) => storeFailed(err, next),
      );
    },
    countFailure: (err, req, _res: Response, next) => {
      if (!(err instanceof GatewayError) || !TOKEN_REFUSALS.has(err.code)) return next(err);
      Promise.resolve(store.increment(keyOf(req))).then(
        (hits) => next(hits.totalHits > limit ? exhausted(hits.resetTime) : err),
        (storeErr: unknown) => storeFailed(storeErr, next, err),
      );
    },
  };
}
