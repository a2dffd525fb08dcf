import type { RequestHandler } from 'express';
import { GatewayError } from '../errors/codes';
import { decide, type Policy } from '../policy/policy';

/** Default deny: the caller's roles must grant the resolved operation. */
export function authorize(policy: () => Policy): RequestHandler {
  return (_req, res, next) => {
    const { principal, operation } = res.locals;
    if (!principal || !operation) throw new Error('authorize runs after authenticate and resolveOperation');
    const decision = decide(policy(), principal.roles, operation.id);
    res.locals.decision = decision;
    if (!decision.allowed) {
      throw new GatewayError('forbidden', `Your roles do not allow ${operation.id}.`, [
        { reason: decision.reason, operation: operation.id },
      ]);
    }
    next();
  };
}

/** For the gateway's own endpoints: the caller's roles must grant `permission`. */
export function requirePermission(policy: () => Policy, permission: string): RequestHandler {
  return (_req, res, next) => {
    const { principal } = res.locals;
    if (!principal) throw new Error('requirePermission runs after authenticate');
    const decision = decide(policy(), principal.roles, permission);
    res.locals.decision = decision;
    if (!decision.allowed)
      throw new GatewayError('forbidden', `Your roles do not allow ${permission}.`, [
        { reason: decision.reason, permission },
      ]);
    next();
  };
}

/** Some inputs need more than the operation's own permission (see the catalogue's `inputPermission`). */
export function authorizeInput(policy: () => Policy): RequestHandler {
  return (_req, res, next) => {
    const { principal, operation, input } = res.locals;
    const permission = operation?.inputPermission?.(input?.body);
    if (!principal || !permission) return next();
    const decision = decide(policy(), principal.roles, permission);
    if (!decision.allowed) {
      res.locals.decision = decision;
      throw new GatewayError('forbidden', `This input needs ${permission}, which your roles do not grant.`, [
        { reason: decision.reason, operation: operation?.id, permission },
      ]);
    }
    next();
  };
}
