import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { AuditRecorder } from '../audit/recorder';
import { toGatewayError } from '../http/error-handler';
import { ID_PATTERN } from '../catalogue/schemas';
import type { OwnershipStore } from '../ownership/store';
import { requestFacts } from './audit-facts';

/** Nothing is changed unless it is audited first: the request entry commits before the upstream is called. */
export function recordMutationIntent(recorder: AuditRecorder): RequestHandler {
  return async (req, res, next) => {
    if (res.locals.operation?.mutates)
      res.locals.intent = await recorder.recordIntent(requestFacts(req, res, res.locals.input?.body));
    next();
  };
}

/**
 * A mutation refused after authentication (denied, invalid, rate limited) leaves one `decision` entry, and so
 * does any request refused for its target (another team's application), reads included: probing is recorded.
 */
export function recordRefusedMutation(recorder: AuditRecorder, ownership: OwnershipStore): ErrorRequestHandler {
  return async (err, req, res, next) => {
    const error = toGatewayError(err);
    const audited = res.locals.operation?.mutates || res.locals.targetRefused;
    const refusedBeforeForwarding = audited && res.locals.principal && !res.locals.intent;
    if (refusedBeforeForwarding && error.code !== 'audit_unavailable' && error.code !== 'internal_error') {
      // Refused before its owner was read (by role, by a rate limit): the entry still names the owning team, so a
      // team's auditor sees the attempts against its applications. Best effort: the refusal stands either way.
      const applicationId = res.locals.params?.application_id;
      if (
        res.locals.team === undefined &&
        applicationId &&
        ID_PATTERN.test(applicationId) &&
        error.code !== 'ownership_unavailable'
      ) {
        res.locals.team = (await ownership.ownerOf(applicationId).catch(() => undefined))?.team ?? null;
      }
      await recorder.recordRefusal(requestFacts(req, res, req.body), error);
    }
    next(err);
  };
}
