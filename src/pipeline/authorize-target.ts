import type { Request, RequestHandler, Response } from 'express';
import { AuditTimeout } from '../audit/bounded';
import { ID_PATTERN } from '../catalogue/schemas';
import { GatewayError } from '../errors/codes';
import { chooseOwner } from '../ownership/owner-choice';
import { OwnershipUnavailable, type OwnershipStore } from '../ownership/store';
import type { DenialReason } from '../errors/reasons';

/** The body a `team`-scoped caller gets for another team's application, an unowned one and a missing one alike. */
export const NO_SUCH_APPLICATION = 'No such application.';

/**
 * Object-level authorization, before the body is read and before anything is forwarded: a `team`-scoped caller
 * reaches only applications owned by one of its teams; a create is given its owner. Also notes the owning team
 * for the audit entries of a mutation. (`applications.list` is narrowed by serveTeamList.)
 */
export function authorizeTarget(ownership: OwnershipStore): RequestHandler {
  return async (req, res, next) => {
    const { principal, operation, params, decision } = res.locals;
    if (!principal || !operation || !params || !decision?.allowed)
      throw new Error('authorizeTarget runs after authorize');
    if (operation.id === 'applications.create') {
      res.locals.team = ownerOfCreate(req, res, principal.teams, decision.scope);
      return next();
    }
    const applicationId = params.application_id;
    // A malformed id is validation's to refuse (400); nothing is looked up or forwarded for it.
    if (applicationId === undefined || !ID_PATTERN.test(applicationId)) return next();
    if (decision.scope === 'any' && !operation.mutates) return next();
    const owner = await failClosed(() => ownership.ownerOf(applicationId));
    res.locals.team = owner?.team ?? null;
    if (decision.scope === 'team' && !(owner && principal.teams.includes(owner.team))) {
      refuse(res, owner ? 'not_owner' : 'unowned');
      throw new GatewayError('not_found', NO_SUCH_APPLICATION);
    }
    next();
  };
}

/**
 * A create from a `source` template copies that application's API keys: for a `team`-scoped caller the template must
 * be one of its teams' applications too, refused exactly like naming it in the path. Runs once the body is validated.
 */
export function authorizeSource(ownership: OwnershipStore): RequestHandler {
  return async (_req, res, next) => {
    const { principal, decision, input } = res.locals;
    const source = input?.body?.source;
    if (typeof source !== 'string' || !principal || !decision?.allowed || decision.scope !== 'team') return next();
    const owner = await failClosed(() => ownership.ownerOf(source));
    if (!(owner && principal.teams.includes(owner.team))) {
      refuse(res, owner ? 'not_owner' : 'unowned');
      throw new GatewayError('not_found', NO_SUCH_APPLICATION, [{ location: 'body', field: 'source' }]);
    }
    next();
  };
}

function ownerOfCreate(req: Request, res: Response, teams: string[], scope: 'team' | 'any'): string {
  const choice = chooseOwner(teams, scope, req.get('x-team'));
  if (choice.ok) return choice.team;
  const detail = {
    location: 'header',
    field: 'X-Team',
    code: choice.reason,
    reason: choice.reason,
    message: choice.message,
  };
  if (choice.kind === 'invalid') throw new GatewayError('validation_failed', undefined, [detail]);
  refuse(res, choice.reason);
  throw new GatewayError('forbidden', choice.message, [detail]);
}

function refuse(res: Response, reason: DenialReason): void {
  res.locals.decision = { allowed: false, reason };
  res.locals.targetRefused = true;
}

/** Ownership that cannot be read refuses the request (503 ownership_unavailable): never let through unchecked. */
export async function failClosed<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof OwnershipUnavailable) {
      const reason = err.cause instanceof AuditTimeout ? 'ownership_read_timeout' : 'ownership_read_failed';
      throw new GatewayError('ownership_unavailable', undefined, [{ reason }], { 'Retry-After': '5' });
    }
    throw err;
  }
}
