import type { DenialReason } from '../errors/reasons';
import { roleDecision, type Decision, type Policy } from './policy';

/** Who is deciding about: the roles and teams a person holds (a live token's, or as stored with a request). */
export interface Holder {
  roles: readonly string[];
  teams: readonly string[];
}

/**
 * What an action touches, as it stands when the decision is made:
 * - `none`: nothing a team owns (a list narrowed by team afterwards, the caller's own records);
 * - `application`: an existing application and its owner now (null: no team owns it, or it does not exist);
 * - `new_application`: a create, and the team that will own it;
 * - `teams`: every team an action touches (an ownership move: the owner before and after; null for unowned).
 */
export type Target =
  | { kind: 'none' }
  | { kind: 'application'; owner: string | null }
  | { kind: 'new_application'; team: string }
  | { kind: 'teams'; teams: readonly (string | null)[] };

export const NO_TARGET: Target = { kind: 'none' };

/**
 * The one decision (issue 23): may this holder use `permission` on `target`? Default deny; a role must grant the
 * permission, and a `team`-scoped grant reaches only what the holder's teams own, whatever the permission (a
 * Management operation, `ownership.manage`, `apikeys.reveal`, `audit.read`). Used when a request arrives, for every
 * action on an approval request, and again when an approved request executes.
 */
export function decide(policy: Policy, holder: Holder, permission: string, target: Target): Decision {
  const granted = roleDecision(policy, holder.roles, permission);
  if (!granted.allowed || granted.scope === 'any') return granted;
  const refusal = teamRefusal(holder.teams, target);
  return refusal ? { allowed: false, reason: refusal } : granted;
}

function teamRefusal(teams: readonly string[], target: Target): DenialReason | undefined {
  switch (target.kind) {
    case 'none':
      return undefined;
    case 'application':
      if (target.owner === null) return 'unowned';
      return teams.includes(target.owner) ? undefined : 'not_owner';
    case 'new_application':
      return teams.includes(target.team) ? undefined : 'not_team_member';
    case 'teams':
      for (const team of target.teams) {
        if (team === null) return 'unowned';
        if (!teams.includes(team)) return 'not_owner';
      }
      return undefined;
  }
}
