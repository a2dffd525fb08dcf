import type { RequestHandler } from 'express';
import { z } from 'zod';
import { GatewayError } from '../http/errors';
import { PERMISSIONS } from '../policy/permissions';
import { decide, type Policy } from '../policy/policy';
import { parseOrFail } from './parse';

const explainQuery = z.strictObject({
  role: z.string().min(1).max(512),
  operation: z.string().min(1).max(64),
});

/** `GET /v1/policy/explain?role=a,b&operation=…`: would these roles be allowed, and why. For any signed-in caller. */
export function explainPolicy(policy: () => Policy): RequestHandler {
  return (req, res) => {
    const { role, operation } = parseOrFail(explainQuery, req.query, 'query');
    if (!PERMISSIONS.includes(operation)) {
      throw new GatewayError('validation_failed', undefined, [{ location: 'query', field: 'operation', code: 'unknown_operation', message: `known: ${PERMISSIONS.join(', ')}` }]);
    }
    const roles = role.split(',').map((r) => r.trim()).filter(Boolean);
    const current = policy();
    const decision = decide(current, roles, operation);
    res.set('Cache-Control', 'no-store').json({
      roles,
      operation,
      allowed: decision.allowed,
      reason: decision.reason,
      granted_by: decision.allowed ? decision.role : null,
      unknown_roles: roles.filter((r) => !current.grants.has(r)),
    });
  };
}
