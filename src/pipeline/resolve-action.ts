import type { RequestHandler } from 'express';
import { matchAction } from '../catalogue/resolve';
import { GatewayError } from '../errors/codes';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every request under /v1 is one of the catalogue's actions (src/catalogue/actions.ts), or nothing: the gateway is
 * not an open proxy to the rest of the upstream. Resolved before the per-person limit, which meters by the row's
 * class; a path that names no action is metered by its method, then refused by `refuseUnmatched`.
 */
export function resolveAction(): RequestHandler {
  return (req, res, next) => {
    const match = matchAction(req.method, `${req.baseUrl}${req.path}`);
    if (match.kind === 'action') {
      res.locals.action = match.action;
      res.locals.operation = match.action.operation;
      res.locals.params = match.params;
    } else {
      res.locals.unmatched = match;
      res.locals.mutatesByMethod = !READ_METHODS.has(req.method);
    }
    next();
  };
}

/** 404 for a path that names no action, 405 (with Allow) for a method the path's actions do not take. */
export function refuseUnmatched(): RequestHandler {
  return (req, res, next) => {
    const unmatched = res.locals.unmatched;
    if (unmatched?.kind === 'wrong_method') {
      throw new GatewayError('method_not_allowed', undefined, [{ allowed: unmatched.allowed }], {
        allow: unmatched.allowed,
      });
    }
    if (unmatched) throw new GatewayError('not_found');
    // RFC 9112 request targets have no fragment. Express serves the path before the `#`; what follows it could
    // name another resource in a log or an export (issue 18, finding 6).
    // The trail's own reads record the path without it.
    if (res.locals.operation && req.originalUrl.includes('#')) {
      throw new GatewayError('validation_failed', 'A request target has no fragment.', [
        { location: 'path', code: 'fragment_in_target', reason: 'fragment_in_target' },
      ]);
    }
    next();
  };
}
