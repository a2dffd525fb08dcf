import type { ErrorRequestHandler, Request, Response } from 'express';
import type { AuditRecorder } from '../audit/recording/recorder';
import type { Action } from '../catalogue/actions';
import { matchAction } from '../catalogue/resolve';
import { ID_PATTERN } from '../catalogue/schemas';
import type { GatewayError } from '../errors/codes';
import { DECISION_REASONS, type DenialReason } from '../errors/reasons';
import { toGatewayError } from '../http/error-handler';
import type { OwnershipStore } from '../ownership/store';
import { requestFacts } from './audit-facts';

/** Refusals that are not the person's doing: the store that would record them is what failed, or the gateway did. */
const NOT_RECORDED = new Set(['audit_unavailable', 'internal_error']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one refusal recorder (issue 23): whatever refused a request by a known person (body reader, input schema, the
 * decision, ownership, approvals, CSRF, method, limits), one entry: an `access` entry for a read of the trail
 * ("watchers are watched"), a `decision` entry for everything else. Nothing else in the gateway records refusals, so
 * none is recorded twice. Not recorded: a read refused by its rate limit (the limit is what bounds the trail's
 * growth), a path that names no action, a cross-site request without the CSRF header that could not change
 * anything, and a request whose request entry is already committed (its outcome entry records the failure).
 */
export function recordRefusal(recorder: AuditRecorder, ownership: OwnershipStore): ErrorRequestHandler {
  return async (err, req, res, next) => {
    const error = toGatewayError(err);
    if (failedSignIn(error, res)) {
      // No person yet: filed as `session.sign_in` (paths are recorded without their query: no code, no state).
      await recorder.recordRefusal(requestFacts(req, res), error, 'session.sign_in');
      return next(err);
    }
    const action = res.locals.action ?? lateAction(req, res);
    if (recordable(error, req, res, action)) {
      denyWithReasonOf(error, res);
      if (action?.target === 'application' && res.locals.team === undefined)
        res.locals.team = await ownerForEntry(ownership, res, error);
      const facts = requestFacts(req, res, req.body);
      if (action?.target === 'audit')
        await recorder.recordAccess(facts, action.auditAction, { path: req.baseUrl + req.path }, error);
      else await recorder.recordRefusal(facts, error, action?.auditAction);
    }
    next(err);
  };
}

/**
 * A failed sign-in (forged state, a replayed sign-in, an issuer mix-up, …): one `decision` entry each, with its
 * reason from the table of reasons, for each failure the per-address limit counted, so no address can add more
 * than RATE_LIMIT_UNAUTHENTICATED of them a window (past it: 429, not recorded, like a read refused by its limit).
 */
function failedSignIn(error: GatewayError, res: Response): boolean {
  return error.code === 'sign_in_failed' && res.locals.signInFailureCounted === true && !res.locals.principal;
}

function recordable(error: GatewayError, req: Request, res: Response, action: Action | undefined): boolean {
  if (!res.locals.principal || res.headersSent || res.locals.intent) return false;
  if (NOT_RECORDED.has(error.code)) return false;
  if (!action && res.locals.unmatched?.kind !== 'wrong_method') return false;
  if (error.code === 'csrf_header_missing') return !SAFE_METHODS.has(req.method);
  const mutates = action?.mutates ?? res.locals.mutatesByMethod ?? !SAFE_METHODS.has(req.method);
  return !(error.details[0]?.reason === 'reads_budget_exhausted' && !mutates);
}

/**
 * A refusal for want of a permission that came after the action's own was granted (break-glass, an input's
 * further permission) is filed with the reason it was refused for, not the grant before it (issue 23, finding 9).
 */
function denyWithReasonOf(error: GatewayError, res: Response): void {
  const reason = error.details[0]?.reason;
  if (error.code !== 'forbidden' || res.locals.decision?.allowed === false) return;
  if (typeof reason === 'string' && Object.hasOwn(DECISION_REASONS, reason) && reason !== 'role_grants_permission')
    res.locals.decision = { allowed: false, reason: reason as DenialReason };
}

/** A refusal before the action was resolved (CSRF, in authentication): the action its path and method name. */
function lateAction(req: Request, res: Response): Action | undefined {
  if (res.locals.unmatched) return undefined;
  const match = matchAction(req.method, `${req.baseUrl}${req.path}`);
  if (match.kind !== 'action') return undefined;
  res.locals.params ??= match.params;
  return match.action;
}

/**
 * Refused before its owner was read (by role, by a limit): the entry still names the owning team, so a team's
 * auditors see the attempts against its applications. Best effort: the refusal stands either way.
 */
async function ownerForEntry(ownership: OwnershipStore, res: Response, error: GatewayError): Promise<string | null> {
  const applicationId = res.locals.params?.application_id;
  if (!applicationId || !ID_PATTERN.test(applicationId) || error.code === 'ownership_unavailable') return null;
  return (await ownership.ownerOf(applicationId).catch(() => undefined))?.team ?? null;
}
