import type { Request, RequestHandler, Response } from 'express';
import { AuditTimeout } from '../audit/trail/write-failures';
import type { Principal } from '../auth/principal';
import { ID_PATTERN } from '../catalogue/schemas';
import { GatewayError } from '../errors/codes';
import type { DenialReason } from '../errors/reasons';
import { chooseOwner } from '../ownership/owner-choice';
import { OwnershipUnavailable, type OwnershipStore } from '../ownership/store';
import { decide } from '../policy/decide';
import { roleDecision, type Decision, type Policy } from '../policy/policy';

/** The body a `team`-scoped caller gets for another team's application, an unowned one and a missing one alike. */
export const NO_SUCH_APPLICATION = 'No such application.';

/**
 * The decision on an action as it arrives (src/policy/decide.ts), before its body is read: the row's permission
 * for the caller's roles (403 when none grants it) and, for a Management operation, the application it names as its
 * owner stands now (404 for another team's, an unowned or a missing one, alike) or, for a create, the team that will
 * own it. The gateway's own actions decide their targets where they read them, with the same function.
 */
export function decideAction(policy: () => Policy, ownership: OwnershipStore): RequestHandler {
  return async (req, res, next) => {
    const { principal, action, params } = res.locals;
    if (!principal || !action || !params) throw new Error('decideAction runs after authenticate and resolveAction');
    if (action.permission === null) return next();
    const current = policy();
    const role = roleDecision(current, principal.roles, action.permission);
    res.locals.decision = role;
    if (!role.allowed)
      throw refusedByRole(role, action.operation ? { operation: action.id } : { permission: action.permission });
    if (!action.operation) return next();
    if (action.id === 'applications.create') {
      const team = ownerOfCreate(req, res, principal, role.scope);
      res.locals.team = team;
      const decision = decide(current, principal, action.permission, { kind: 'new_application', team });
      res.locals.decision = decision;
      if (!decision.allowed) throw refusedByRole(decision, { operation: action.id });
      return next();
    }
    const applicationId = params.application_id;
    // A malformed id is validation's to refuse (400); nothing is looked up or forwarded for it.
    if (applicationId === undefined || !ID_PATTERN.test(applicationId)) return next();
    // An `any` grant reaches every application: a read needs no owner; a mutation reads it for its entries.
    if (role.scope === 'any' && !action.mutates) return next();
    const owner = (await failClosed(() => ownership.ownerOf(applicationId)))?.team ?? null;
    res.locals.team = owner;
    const decision = decide(current, principal, action.permission, { kind: 'application', owner });
    res.locals.decision = decision;
    if (!decision.allowed) throw new GatewayError('not_found', NO_SUCH_APPLICATION);
    next();
  };
}

/**
 * Some inputs need a further permission (the catalogue's `inputPermission`): a create from a `source` template
 * copies its API keys, so it needs `apikeys.create` on the template as its owner stands now, decided like naming the
 * template in the path (403 without the role, 404 for another team's template). Runs once the body is validated.
 */
export function decideInput(policy: () => Policy, ownership: OwnershipStore): RequestHandler {
  return async (_req, res, next) => {
    const { principal, operation, input } = res.locals;
    const permission = operation?.inputPermission?.(input?.body);
    if (!principal || !permission) return next();
    const current = policy();
    const role = roleDecision(current, principal.roles, permission);
    if (!role.allowed) {
      res.locals.decision = role;
      throw new GatewayError('forbidden', `This input needs ${permission}, which your roles do not grant.`, [
        { reason: role.reason, operation: operation?.id, permission },
      ]);
    }
    const source = input?.body?.source;
    if (typeof source !== 'string' || role.scope === 'any') return next();
    const owner = (await failClosed(() => ownership.ownerOf(source)))?.team ?? null;
    const decision = decide(current, principal, permission, { kind: 'application', owner });
    if (!decision.allowed) {
      res.locals.decision = decision;
      throw new GatewayError('not_found', NO_SUCH_APPLICATION, [{ location: 'body', field: 'source' }]);
    }
    next();
  };
}

/** 403 for a permission the caller's roles do not grant; the detail names the operation or the permission. */
export function refusedByRole(decision: Decision, what: { operation: string } | { permission: string }): GatewayError {
  const reason = decision.allowed ? undefined : decision.reason;
  const name = 'operation' in what ? what.operation : what.permission;
  return new GatewayError('forbidden', `Your roles do not allow ${name}.`, [{ reason, ...what }]);
}

function ownerOfCreate(req: Request, res: Response, principal: Principal, scope: 'team' | 'any'): string {
  const choice = chooseOwner(principal.teams, scope, req.get('x-team'));
  if (choice.ok) return choice.team;
  const detail = { location: 'header', field: 'X-Team', code: choice.reason, reason: choice.reason };
  if (choice.kind === 'invalid')
    throw new GatewayError('validation_failed', undefined, [{ ...detail, message: choice.message }]);
  res.locals.decision = { allowed: false, reason: choice.reason as DenialReason };
  throw new GatewayError('forbidden', choice.message, [{ ...detail, message: choice.message }]);
}

/** Ownership that cannot be read refuses the request (503 ownership_unavailable): never let through unchecked. */
export async function failClosed<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof OwnershipUnavailable) {
      const reason = err.cause instanceof AuditTimeout ? 'ownership_read_timeout' : 'ownership_read_failed';
      throw new GatewayError('ownership_unavailable', undefined, [{ reason }], { retryAfterS: 5 });
    }
    throw err;
  }
}
