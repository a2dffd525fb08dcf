import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ID_PATTERN } from '../catalogue/schemas';
import { GatewayError } from '../errors/codes';
import type { OwnershipStore } from '../ownership/store';
import { TEAM_PATTERN } from '../ownership/teams';
import { failClosed } from '../pipeline/authorize-target';
import { PERMISSIONS } from '../policy/permissions';
import { decide, type Decision, type Policy } from '../policy/policy';
import { parseOrFail } from './parse';

const explainQuery = z.strictObject({
  role: z.string().min(1).max(512),
  operation: z.string().min(1).max(64),
  teams: z.string().max(4096).optional(),
  application_id: z.string().regex(ID_PATTERN, 'must be an application id').optional(),
});

/**
 * `GET /v1/policy/explain?role=a,b&operation=…[&teams=x,y][&application_id=…]`: would these roles (in these teams)
 * be allowed, on which applications, and why. For any signed-in caller; naming an application reads its owner, so
 * that part needs `ownership.manage` (otherwise it would tell anyone which team owns what).
 */
export function explainPolicy(policy: () => Policy, ownership: OwnershipStore): RequestHandler {
  return async (req, res) => {
    const query = parseOrFail(explainQuery, req.query, 'query');
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
    const decision = decide(current, roles, operation);
    const target =
      query.application_id === undefined
        ? undefined
        : await explainTarget(
            res.locals.principal?.roles ?? [],
            current,
            ownership,
            decision,
            query.application_id,
            teams,
          );
    res.set('Cache-Control', 'no-store').json({
      roles,
      operation,
      allowed: decision.allowed && (target === undefined || target.allowed),
      reason: target && !target.allowed ? target.reason : decision.reason,
      granted_by: decision.allowed ? decision.role : null,
      scope: decision.allowed ? decision.scope : null,
      reaches: decision.allowed
        ? decision.scope === 'any'
          ? 'every application'
          : "applications owned by the caller's teams"
        : null,
      unknown_roles: roles.filter((r) => !current.grants.has(r)),
      ...(target ? { teams, application: target.application } : {}),
    });
  };
}

async function explainTarget(
  callerRoles: string[],
  current: Policy,
  ownership: OwnershipStore,
  decision: Decision,
  applicationId: string,
  teams: string[],
) {
  if (!decide(current, callerRoles, 'ownership.manage').allowed) {
    throw new GatewayError(
      'forbidden',
      'Explaining a decision about one application reads its owner, which needs ownership.manage.',
      [{ reason: 'no_role_grants_permission', permission: 'ownership.manage' }],
    );
  }
  const owner = (await failClosed(() => ownership.ownerOf(applicationId)))?.team ?? null;
  const application = { id: applicationId, owner };
  if (!decision.allowed || decision.scope === 'any') return { allowed: true, reason: decision.reason, application };
  if (owner === null) return { allowed: false, reason: 'unowned' as const, application };
  return teams.includes(owner)
    ? { allowed: true, reason: decision.reason, application }
    : { allowed: false, reason: 'not_owner' as const, application };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
}
