import type { ErrorDetail } from '../errors/codes';

export interface Pair {
  application_id: string;
  team: string;
}

export type PlannedChange = Pair & { previous_team: string | null; status: 'assigned' | 'transferred' | 'unchanged' };

/** What an import would do, or every reason it cannot: nothing is changed unless every pair is acceptable. */
export type ImportPlan = { ok: true; changes: PlannedChange[] } | { ok: false; problems: ErrorDetail[] };

export interface ImportFacts {
  /** Applications that exist upstream. */
  existing: ReadonlySet<string>;
  /** Current owners of the named applications. */
  owners: ReadonlyMap<string, string>;
  /** Teams that may be named without `allow_new_teams`. */
  knownTeams: ReadonlySet<string>;
  allowNewTeams: boolean;
}

/**
 * Checks a bulk import against what the gateway knows, all at once: an application named twice, one that does
 * not exist upstream, or a team nobody has seen (a typo would give an application to a team nobody is in) refuse
 * the whole import. A pair that changes nothing is reported `unchanged`, so an import can be re-run.
 */
export function planImport(pairs: readonly Pair[], facts: ImportFacts): ImportPlan {
  const problems: ErrorDetail[] = [];
  const seen = new Set<string>();
  pairs.forEach((pair, row) => {
    const at = { location: 'body', field: `pairs.${row}` };
    if (seen.has(pair.application_id))
      problems.push({
        ...at,
        code: 'duplicate_application',
        message: `${pair.application_id} is named more than once`,
      });
    seen.add(pair.application_id);
    if (!facts.existing.has(pair.application_id))
      problems.push({
        ...at,
        code: 'unknown_application',
        message: `no application ${pair.application_id} exists upstream`,
      });
    if (!facts.allowNewTeams && !facts.knownTeams.has(pair.team)) {
      problems.push({
        ...at,
        code: 'unknown_team',
        reason: 'unknown_team',
        message: `team ${pair.team} owns no application yet (set allow_new_teams to give it its first)`,
      });
    }
  });
  if (problems.length > 0) return { ok: false, problems };
  const changes = pairs.map((pair): PlannedChange => {
    const previous = facts.owners.get(pair.application_id) ?? null;
    return {
      ...pair,
      previous_team: previous,
      status: previous === pair.team ? 'unchanged' : previous === null ? 'assigned' : 'transferred',
    };
  });
  return { ok: true, changes };
}
