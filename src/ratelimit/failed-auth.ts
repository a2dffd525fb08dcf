import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { ipKeyGenerator, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { GatewayError } from '../errors/codes';
import { budgetExhausted, countersUnavailable } from './refusals';

export interface FailedAuthLimiter {
  /**
   * After authentication (and after a sign-in step): a refusal for want of a valid token, or a failed sign-in, counts
   * against the address, and past the budget becomes 429. A failed sign-in it counted is marked
   * (`res.locals.signInFailureCounted`) for the one refusal recorder: one `decision` entry each, never more than the
   * budget's worth per address and window.
   */
  countFailure: ErrorRequestHandler;
  /**
   * Before a sign-in step that costs the identity provider a call: 429 when the address has spent its budget of
   * failures already, without counting this request (issue 24: junk codes cannot drive the IdP's token endpoint).
   */
  refuseWhenSpent(req: Request): Promise<void>;
}

export interface FailedAuthOptions {
  store: Store;
  limit: number;
  /** Failed sign-ins marked for the trail per window, across all addresses (0: no cap). */
  signInFailuresRecorded?: number;
  windowMs: number;
  /** Whether a refused token is still answered 401 when the counters cannot be read (RATE_LIMIT_STORE_FAILURE). */
  passesWhenStoreFails: boolean;
  logger: Logger;
}

const TOKEN_REFUSALS = new Set(['unauthenticated', 'invalid_token', 'sign_in_failed']);

/**
 * Failed authentications per client address. Only refusals are counted, after they happen, and only refusals are
 * refused: a request with a valid token never touches the counter, so one client guessing (or holding an expired
 * token) behind a NAT, or behind a load balancer when TRUST_PROXY is unset, cannot lock out everyone else who
 * shares its address (issue 13, defect 2). An address past its budget gets 429 for each invalid token until the
 * window ends. A client that hangs up before its answer is not counted either (express-rate-limit's
 * skipSuccessfulRequests counted every request and un-counted it on `finish`, which never comes for an aborted
 * one). Uses express-rate-limit's stores, in memory or Redis.
 */
/** The counter of failed sign-ins recorded, beside the per-address ones (no address is spelled like this). */
const RECORDED_KEY = 'sign-in-failures-recorded';

export function createFailedAuthLimiter({
  store,
  limit,
  signInFailuresRecorded = 0,
  windowMs,
  passesWhenStoreFails,
  logger,
}: FailedAuthOptions): FailedAuthLimiter {
  store.init?.({ windowMs } as never);
  const keyOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown', 56);
  const recordable = async () => {
    if (signInFailuresRecorded <= 0) return true;
    try {
      return (await store.increment(RECORDED_KEY)).totalHits <= signInFailuresRecorded;
    } catch {
      return true; // the counters are unreachable: recorded, the per-address count having passed
    }
  };
  const storeFailed = (err: unknown, next: NextFunction, refusal: unknown) =>
    next(passesWhenStoreFails ? refusal : countersUnavailable(logger, 'unauthenticated', err));

  return {
    countFailure: (err, req, res: Response, next) => {
      if (!(err instanceof GatewayError) || !TOKEN_REFUSALS.has(err.code)) return next(err);
      Promise.resolve(store.increment(keyOf(req))).then(
        (hits) => {
          if (hits.totalHits > limit) return next(budgetExhausted('unauthenticated', hits.resetTime, windowMs));
          if (err.code !== 'sign_in_failed') return next(err);
          // Each address adds at most `limit` entries a window; all of them together at most `signInFailuresRecorded`.
          recordable().then((yes) => {
            if (yes) res.locals.signInFailureCounted = true;
            next(err);
          }, next);
        },
        (storeErr: unknown) => storeFailed(storeErr, next, err),
      );
    },
    async refuseWhenSpent(req) {
      let hits: { totalHits: number; resetTime: Date | undefined } | undefined;
      try {
        hits = await store.get?.(keyOf(req));
      } catch (storeErr) {
        if (passesWhenStoreFails) return;
        throw countersUnavailable(logger, 'unauthenticated', storeErr);
      }
      if (hits && hits.totalHits >= limit) throw budgetExhausted('unauthenticated', hits.resetTime, windowMs);
    },
  };
}
