import type { Request, RequestHandler } from 'express';
import { GatewayError } from '../errors/codes';
import { CSRF_HEADER, CSRF_VALUE } from './cookies';
import type { Sessions } from './sessions';

/**
 * The session half of authentication. A request with an Authorization header is the bearer authenticator's,
 * whatever cookies it carries; one with the session cookie is authenticated by its server-side session and must
 * carry the CSRF header. Either way the pipeline after this step sees one Principal.
 */
export function sessionOrBearer(sessions: Sessions, bearer: RequestHandler): RequestHandler {
  return async (req, res, next) => {
    if (req.headers.authorization !== undefined) return bearer(req, res, next);
    const lookup = await sessions.resolve(req);
    if (lookup.kind === 'none') return bearer(req, res, next);
    if (lookup.kind === 'ended') throw sessionEnded();
    res.locals.principal = lookup.principal;
    requireCsrfHeader(req);
    next();
  };
}

export function sessionEnded(): GatewayError {
  return new GatewayError('unauthenticated', 'The session has ended or is not valid; sign in again at /auth/login.', [
    { reason: 'session_ended' },
  ]);
}

/**
 * A cross-site form, link or simple fetch cannot set a custom header, and CORS never allows this one, so its
 * presence proves the request came from a page of this origin. A refused mutation is recorded in the trail by the
 * one refusal recorder (src/pipeline/record-refusal.ts).
 */
export function requireCsrfHeader(req: Request): void {
  if (req.get(CSRF_HEADER) === CSRF_VALUE) return;
  throw new GatewayError('csrf_header_missing', undefined, [{ reason: 'csrf_header_missing', header: CSRF_HEADER }]);
}
