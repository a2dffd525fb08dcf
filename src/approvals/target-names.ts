import { randomUUID } from 'node:crypto';
import { upstreamPath } from '../catalogue/match';
import { operationById } from '../catalogue/operations';
import type { UpstreamBudget } from '../ratelimit/upstream-budget';
import type { Upstream } from '../upstream/client';

/**
 * How an approval's `target.name` was found (issue 24): `current` read from the Management API just now;
 * `not_found` it has no such application (deleted, or never was); `unavailable` it could not be asked (unreachable,
 * the shared budget spent, an answer without a name); `not_read` this answer does not look names up (the answers to
 * actions: the reads do); `not_applicable` the request names no application (a create's target is the collection).
 */
export const NAME_STATUSES = ['current', 'not_found', 'unavailable', 'not_read', 'not_applicable'] as const;
export type NameStatus = (typeof NAME_STATUSES)[number];

export interface TargetName {
  name: string | null;
  status: NameStatus;
}

/** Reads applications' names from the Management API, through the same client and shared budget as a forward. */
export interface TargetNames {
  read(applicationIds: readonly string[]): Promise<Map<string, TargetName>>;
}

/** Names read at once: a page of approvals names few applications, and each is one budgeted upstream call. */
const PARALLEL = 4;
/**
 * Applications looked up for one answer at most (a screen's worth); the rest answer `unavailable`. One caller's page
 * of approvals costs at most this many upstream reads of the DeveloperKey's budget, however many it names.
 */
const MAX_LOOKUPS = 20;

const GET = operationById('applications.get');

export function createTargetNames(deps: { upstream: Upstream; budget: UpstreamBudget }): TargetNames {
  async function one(id: string, stop: { now: boolean }): Promise<TargetName> {
    if (stop.now) return { name: null, status: 'unavailable' };
    try {
      // A read like any forwarded read: it takes the DeveloperKey's shared budget, and fails soft when spent.
      await deps.budget.take(false);
      const response = await deps.upstream.forward({
        method: GET.method,
        path: upstreamPath(GET, { application_id: id }),
        query: {},
        requestId: `approval-target-${randomUUID()}`,
      });
      if (response.status === 404) return { name: null, status: 'not_found' };
      const name = response.status === 200 ? nameIn(response.body) : undefined;
      return name === undefined ? { name: null, status: 'unavailable' } : { name, status: 'current' };
    } catch {
      // Unreachable, timed out, or the budget refused: the approval is still shown, its target's name as unknown, and
      // no further name is asked for in this answer (a hung upstream costs one timeout, not one per batch).
      stop.now = true;
      return { name: null, status: 'unavailable' };
    }
  }
  return {
    async read(ids) {
      const unique = [...new Set(ids)];
      const names = new Map<string, TargetName>();
      const asked = unique.slice(0, MAX_LOOKUPS);
      const stop = { now: false };
      for (let i = 0; i < asked.length; i += PARALLEL) {
        const batch = asked.slice(i, i + PARALLEL);
        const found = await Promise.all(batch.map((id) => one(id, stop)));
        batch.forEach((id, k) => names.set(id, found[k]!));
      }
      for (const id of unique.slice(MAX_LOOKUPS)) names.set(id, { name: null, status: 'unavailable' });
      return names;
    },
  };
}

function nameIn(body: Buffer): string | null | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { name?: unknown };
    if (typeof parsed.name === 'string') return parsed.name;
    return parsed.name === null ? null : undefined;
  } catch {
    return undefined;
  }
}
