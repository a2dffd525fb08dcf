import type { RequestHandler } from 'express';
import { GatewayError } from '../errors/codes';
import { tokenRejected, type TokenVerifier } from '../auth/verifier';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i;
const MAX_TOKEN_LENGTH = 8192;

function unauthenticated(message: string): GatewayError {
  return new GatewayError('unauthenticated', message, [], { challenge: { scheme: 'Bearer' } });
}

/**
 * Establishes the caller from `Authorization: Bearer <JWT>` and nothing else: tokens in query
 * strings or cookies are ignored, and a request carrying two Authorization headers is refused
 * (Node keeps only the first, and proxies may disagree on which one counts).
 */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const headers = authorizationHeaders(req.rawHeaders);
    if (headers.length === 0) throw unauthenticated('Send Authorization: Bearer <token>.');
    if (headers.length > 1) throw unauthenticated('Send exactly one Authorization header.');
    const header = headers[0] as string;
    if (header.length > MAX_TOKEN_LENGTH + 7) throw tokenRejected('malformed', 'The bearer token is too long.');
    const match = BEARER.exec(header);
    if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>".');
    res.locals.principal = await verifier.verify(match[1] as string);
    next();
  };
}

function authorizationHeaders(rawHeaders: string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === 'authorization') values.push(rawHeaders[i + 1] as string);
  }
  return values;
}
