import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { AuditRecorder } from '../audit/recorder';
import { toGatewayError } from '../http/error-handler';

/** Nothing is changed unless it is audited first: the request entry commits before the upstream is called. */
export function recordMutationIntent(recorder: AuditRecorder): RequestHandler {
  return async (req, res, next) => {
    if (res.locals.operation?.mutates) res.locals.intent = await recorder.recordIntent(req, res);
    next();
  };
}

/**
 * A mutation refused after authentication (denied, invalid, rate limited) leaves one `decision` entry, and so
 * does any request refused for its target (another team's application), reads included: probing is recorded.
 */
export function recordRefusedMutation(recorder: AuditRecorder): ErrorRequestHandler {
  return async (err, req, res, next) => {
    const error = toGatewayError(err);
    const audited = res.locals.operation?.mutates || res.locals.targetRefused;
    const refusedBeforeForwarding = audited && res.locals.principal && !res.locals.intent;
    if (refusedBeforeForwarding && error.code !== 'audit_unavailable' && error.code !== 'internal_error') {
      await recorder.recordRefusal(req, res, error);
    }
    next(err);
  };
}
