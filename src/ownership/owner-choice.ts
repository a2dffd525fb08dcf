import type { Scope } from '../policy/policy';
import type { DenialReason } from '../errors/reasons';
import { TEAM_PATTERN } from './teams';

/** Who will own an application the caller creates, or why there is no answer. */
export type OwnerChoice =
  | { ok: true; team: string }
  | { ok: false; kind: 'invalid'; reason: 'team_required' | 'invalid_team'; message: string }
  | { ok: false; kind: 'denied'; reason: DenialReason; message: string };

/**
 * Every application created through the gateway has an owner. `X-Team` names it (one of the caller's teams, or any
 * team for an `any`-scoped role); a caller in exactly one team may leave it out.
 */
export function chooseOwner(teams: readonly string[], scope: Scope, header: string | undefined): OwnerChoice {
  if (header !== undefined) {
    if (!TEAM_PATTERN.test(header))
      return {
        ok: false,
        kind: 'invalid',
        reason: 'invalid_team',
        message: 'X-Team must be a team name: 1-64 letters, digits, "_", ".", ":" or "-"',
      };
    if (scope === 'team' && !teams.includes(header))
      return { ok: false, kind: 'denied', reason: 'not_team_member', message: `You are not in team ${header}.` };
    return { ok: true, team: header };
  }
  if (teams.length === 1) return { ok: true, team: teams[0] as string };
  if (teams.length === 0 && scope === 'team') {
    return {
      ok: false,
      kind: 'denied',
      reason: 'no_team',
      message: 'Your token names no team, and every application created through the gateway is owned by one.',
    };
  }
  return {
    ok: false,
    kind: 'invalid',
    reason: 'team_required',
    message:
      teams.length > 1
        ? `You are in teams ${teams.join(', ')}: name the owning team with X-Team.`
        : 'Name the owning team with X-Team.',
  };
}
