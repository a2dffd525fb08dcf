import type { Response } from 'express';
import type { Principal } from '../auth/principal';
import { GatewayError } from '../errors/codes';
import type { OwnershipStore } from '../ownership/store';
import { TEAM_PATTERN } from '../ownership/teams';
import { failClosed, NO_SUCH_APPLICATION } from '../pipeline/decide-action';
import { decide } from '../policy/decide';
import { GATEWAY_PERMISSIONS, PERMISSIONS } from '../policy/permissions';
import { permissionsOf, roleDecision, type Policy } from '../policy/policy';
import { OPERATIONS } from '../catalogue/operations';
import type { ActionHandlers } from '../pipeline/handlers';

/**
 * `GET /v1/policy/explain?role=a,b&operation=…[&teams=x,y][&application_id=…]`: would these roles (in these teams)
 * be allowed, on which applications, and why — through the one decision (src/policy/decide.ts). For any signed-in
 * caller; naming an application reads its owner, so that part is itself decided as `ownership.manage` on that
 * application (otherwise it would tell anyone which team owns what). `GET /v1/me`: the caller's own.
 */
export function policyHandlers(policy: () => Policy, ownership: OwnershipStore): ActionHandlers {
  return {
    async 'policy.explain'(_req, res) {
      const query = res.locals.actionInput?.query as {
        role: string;
        operation: string;
        teams?: string;
        application_id?: string;
      };
      const { operation } = query;
      if (!PERMISSIONS.includes(operation)) {
        throw new GatewayError('validation_failed', undefined, [
          {
            location: 'query',
            field: 'operation',
            code: 'unknown_operation',
            message: `known: ${PERMISSIONS.join(', ')}`,
          },
        ]);
      }
      const roles = splitList(query.role);
      const teams = splitList(query.teams ?? '');
      const badTeam = teams.find((t) => !TEAM_PATTERN.test(t));
      if (badTeam !== undefined)
        throw new GatewayError('validation_failed', undefined, [
          { location: 'query', field: 'teams', code: 'invalid_team', message: `${badTeam} is not a team name` },
        ]);
      const current = policy();
      const role = roleDecision(current, roles, operation);
      const application =
        query.application_id === undefined
          ? undefined
          : { id: query.application_id, owner: await ownerForExplain(current, ownership, res, query.application_id) };
      const decision = application
        ? decide(current, { roles, teams }, operation, { kind: 'application', owner: application.owner })
        : role;
      res.set('Cache-Control', 'no-store').json({
        roles,
        operation,
        allowed: decision.allowed,
        reason: decision.reason,
        granted_by: role.allowed ? role.role : null,
        scope: role.allowed ? role.scope : null,
        reaches: role.allowed
          ? role.scope === 'any'
            ? 'every application'
            : "applications owned by the caller's teams"
          : null,
        // The gateway's own permissions are granted by name only: `*`, `*.read` or `apikeys.*` never include them.
        granted_by_name_only: (GATEWAY_PERMISSIONS as readonly string[]).includes(operation),
        unknown_roles: roles.filter((r) => !current.grants.has(r)),
        ...(application ? { teams, application } : {}),
      });
    },

    'me.read'(_req, res) {
      const principal = principalOf(res);
      const current = policy();
      const permissions = permissionsOf(current, principal.roles);
      res.set('Cache-Control', 'no-store').json({
        sub: principal.sub,
        issuer: principal.issuer ?? null,
        name: principal.name ?? null,
        email: principal.email ?? null,
        roles: principal.roles,
        teams: principal.teams,
        permissions,
        // Per permission, which applications it reaches: `team` (the caller's teams' applications) or `any`.
        scopes: Object.fromEntries(
          permissions.map((p) => [p, (roleDecision(current, principal.roles, p) as { scope: string }).scope]),
        ),
        operations: OPERATIONS.filter((o) => permissions.includes(o.id)).map((o) => ({
          id: o.id,
          method: o.method,
          path: `/v1${o.path}`,
        })),
      });
    },
  };
}

/** The owner, if the caller may read it: `ownership.manage` on this application, decided like any permission. */
async function ownerForExplain(policy: Policy, ownership: OwnershipStore, res: Response, applicationId: string) {
  const me = principalOf(res);
  const role = roleDecision(policy, me.roles, 'ownership.manage');
  if (!role.allowed) {
    res.locals.decision = role;
    throw new GatewayError(
      'forbidden',
      'Explaining a decision about one application reads its owner, which needs ownership.manage.',
      [{ reason: role.reason, permission: 'ownership.manage' }],
    );
  }
  const owner = (await failClosed(() => ownership.ownerOf(applicationId)))?.team ?? null;
  const onTarget = decide(policy, me, 'ownership.manage', { kind: 'application', owner });
  if (!onTarget.allowed) {
    res.locals.decision = onTarget;
    throw new GatewayError('not_found', NO_SUCH_APPLICATION);
  }
  return owner;
}

function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new Error('policy actions run after authenticate');
  return principal;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
}
