import type { RequestHandler } from 'express';
import { OPERATIONS } from '../catalogue/operations';
import { decide, permissionsOf, type Policy } from '../policy/policy';

/** Who the caller is and what they may do, so a front-end shows only the buttons that work. */
export function me(policy: () => Policy): RequestHandler {
  return (_req, res) => {
    const principal = res.locals.principal;
    if (!principal) throw new Error('me runs after authenticate');
    const permissions = permissionsOf(policy(), principal.roles);
    res.set('Cache-Control', 'no-store').json({
      sub: principal.sub,
      name: principal.name ?? null,
      email: principal.email ?? null,
      roles: principal.roles,
      teams: principal.teams,
      permissions,
      // Per permission, which applications it reaches: `team` (the caller's teams' applications) or `any`.
      scopes: Object.fromEntries(
        permissions.map((p) => [p, (decide(policy(), principal.roles, p) as { scope: string }).scope]),
      ),
      operations: OPERATIONS.filter((o) => permissions.includes(o.id)).map((o) => ({
        id: o.id,
        method: o.method,
        path: `/v1${o.path}`,
      })),
    });
  };
}
