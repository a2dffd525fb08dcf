import { TEAM_PATTERN } from '../catalogue/schemas';

export { TEAM_PATTERN };
/** A token naming more teams than this is refused rather than trimmed: a silent cut would hide a team. */
export const MAX_TEAMS = 64;

export type TeamsClaim = { ok: true; teams: string[] } | { ok: false; problem: string };

/**
 * Reads teams from a claim path such as `teams` or `groups.teams`: a string (one team, or several separated by
 * spaces or commas) or an array of strings. Absent means no team. Anything else is a malformed claim, refused
 * with the token rather than read as "no team", so an identity-provider mistake is seen at once.
 */
export function teamsFromClaims(claims: Record<string, unknown>, claimPath: string): TeamsClaim {
  let value: unknown = claims;
  for (const key of claimPath.split('.')) {
    value =
      value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (value === undefined || value === null) return { ok: true, teams: [] };
  const raw =
    typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : Array.isArray(value) ? value : undefined;
  if (!raw) return { ok: false, problem: `the ${claimPath} claim must be a string or an array of strings` };
  if (raw.length > MAX_TEAMS)
    return { ok: false, problem: `the ${claimPath} claim names more than ${MAX_TEAMS} teams` };
  for (const team of raw) {
    if (typeof team !== 'string' || !TEAM_PATTERN.test(team)) {
      return {
        ok: false,
        problem: `the ${claimPath} claim holds ${JSON.stringify(team).slice(0, 80)}: team names are 1-64 letters, digits, "_", ".", ":" or "-"`,
      };
    }
  }
  return { ok: true, teams: [...new Set(raw as string[])] };
}
