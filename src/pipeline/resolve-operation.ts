import type { RequestHandler } from 'express';
import { matchOperation } from '../catalogue/match';
import { GatewayError } from '../errors/codes';

/** Only the 12 catalogued operations pass: the gateway is not an open proxy to the rest of the upstream. */
export function resolveOperation(): RequestHandler {
  return (req, res, next) => {
    const match = matchOperation(req.method, `${req.baseUrl}${req.path}`);
    if (match.kind === 'wrong_method') {
      throw new GatewayError('method_not_allowed', undefined, [{ allowed: match.allowed }], {
        Allow: match.allowed.join(', '),
      });
    }
    if (match.kind === 'none') throw new GatewayError('not_found');
    res.locals.operation = match.operation;
    res.locals.params = match.params;
    // RFC 9112 request targets have no fragment. Express serves the path before the `#`; what follows it could
    // name another resource in a log or an export (issue 18, finding 6). Refused once the operation is known, so
    // a refused mutation is audited like any other.
    if (req.originalUrl.includes('#')) {
      throw new GatewayError('validation_failed', 'A request target has no fragment.', [
        { location: 'path', code: 'fragment_in_target', reason: 'fragment_in_target' },
      ]);
    }
    next();
  };
}
