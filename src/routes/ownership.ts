import type { Request, Response } from 'express';
import { AuditUnavailable } from '../audit/trail/write-failures';
import type { AuditRecorder } from '../audit/recording/recorder';
import { OwnerMoved } from '../audit/trail/store';
import type { Principal } from '../auth/principal';
import { ID_PATTERN } from '../catalogue/schemas';
import { GatewayError, type ErrorDetail } from '../errors/codes';
import type { ApplicationDirectory } from '../ownership/directory';
import { planImport, type Pair, type PlannedChange } from '../ownership/import-plan';
import type { OwnershipStore } from '../ownership/store';
import { decide, type Target } from '../policy/decide';
import type { Policy } from '../policy/policy';
import type { Upstream } from '../upstream/client';
import { failClosed, NO_SUCH_APPLICATION } from '../pipeline/decide-action';
import { requestFacts } from '../pipeline/audit-facts';
import type { ActionHandlers } from '../pipeline/handlers';

export { MAX_IMPORT_PAIRS } from '../catalogue/gateway-schemas';

export interface OwnershipDeps {
  store: OwnershipStore;
  directory: ApplicationDirectory;
  recorder: AuditRecorder;
  upstream: Upstream;
}

/**
 * `/v1/ownership`: who owns which application, for holders of `ownership.manage`, as catalogue actions. The
 * permission's scope applies like every other's (issue 23, finding 1): a `team`-scoped holder reads and moves only
 * its own teams' applications, between its own teams; another team's application is answered 404, as everywhere.
 * Every change is an audited mutation (request entry first; the response entry's commit makes the change).
 */
export function ownershipHandlers(deps: OwnershipDeps, policy: () => Policy): ActionHandlers {
  const permitted = (res: Response, target: Target) => {
    const decision = decide(policy(), principalOf(res), 'ownership.manage', target);
    if (!decision.allowed) res.locals.decision = decision;
    return decision.allowed;
  };

  return {
    async 'ownership.get'(req, res) {
      const id = pathId(req, res);
      const owner = await failClosed(() => deps.store.ownerOf(id));
      res.locals.team = owner?.team ?? null;
      if (!permitted(res, { kind: 'application', owner: owner?.team ?? null }))
        throw new GatewayError('not_found', NO_SUCH_APPLICATION);
      res
        .set('Cache-Control', 'no-store')
        .json(presentOwner(id, owner?.team ?? null, owner?.assignedAt, owner?.assignedSeq));
    },

    async 'ownership.assign'(req, res) {
      const id = pathId(req, res);
      const { team: to, allow_new_team } = res.locals.actionInput?.body as { team: string; allow_new_team: boolean };
      const owner = await failClosed(() => deps.store.ownerOf(id));
      const from = owner?.team ?? null;
      res.locals.team = from;
      // An `any` holder may assign an unowned application; a `team` holder only moves its own teams' ones.
      if (!permitted(res, { kind: 'application', owner: from }))
        throw new GatewayError('not_found', NO_SUCH_APPLICATION);
      if (!permitted(res, { kind: 'new_application', team: to }))
        throw new GatewayError('forbidden', `You may give applications only to your own teams, not ${to}.`, [
          { location: 'body', field: 'team', reason: 'not_team_member' },
        ]);
      if (from === to)
        throw new GatewayError('conflict', `Team ${to} already owns ${id}.`, [{ reason: 'already_owner', team: to }]);
      if (!allow_new_team && !(await isKnownTeam(deps, res, to))) {
        throw new GatewayError('validation_failed', undefined, [
          {
            location: 'body',
            field: 'team',
            code: 'unknown_team',
            reason: 'unknown_team',
            message: `team ${to} owns no application yet (set allow_new_team to give it its first)`,
          },
        ]);
      }
      await assertExistsUpstream(deps, id, res.locals.requestId);
      await deps.recorder.recordOwnershipChange(requestFacts(req, res), { applicationId: id, from, to, via: 'assign' });
      const now = await failClosed(() => deps.store.ownerOf(id));
      res
        .set('Cache-Control', 'no-store')
        .json({ ...presentOwner(id, now?.team ?? to, now?.assignedAt, now?.assignedSeq), previous_team: from });
    },

    async 'ownership.unowned'(_req, res) {
      const query = res.locals.actionInput?.query as { page_size: number; cursor?: string; page?: number };
      // Unowned applications are no team's: a `team`-scoped holder reaches none of them.
      const reaches = decide(policy(), principalOf(res), 'ownership.manage', { kind: 'application', owner: null });
      const [snapshot, owned] = reaches.allowed
        ? await Promise.all([deps.directory.snapshot(), failClosed(() => deps.store.allOwned())])
        : [{ applications: [] }, new Map<string, string>()];
      // Filtered, then ordered by id and paged: a cursor names the last id returned.
      const unowned = snapshot.applications
        .filter((a) => !owned.has(a.id))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const after = query.cursor === undefined ? undefined : readCursor(query.cursor);
      const start =
        after !== undefined
          ? unowned.findIndex((a) => a.id > after)
          : query.page !== undefined
            ? (query.page - 1) * query.page_size
            : 0;
      const from = start < 0 ? unowned.length : start;
      const objects = unowned.slice(from, from + query.page_size);
      const last = objects.at(-1);
      res.set('Cache-Control', 'no-store').json({
        total: unowned.length,
        count: objects.length,
        ...(query.cursor === undefined ? { page: query.page ?? 1 } : {}),
        objects,
        next_cursor: last && from + objects.length < unowned.length ? writeCursor(last.id) : null,
      });
    },

    async 'ownership.import'(req, res) {
      const input = res.locals.actionInput?.body as { pairs: Pair[]; allow_new_teams: boolean };
      const ids = input.pairs.map((p) => p.application_id);
      // A fresh walk: an import must not be refused for an application created a moment ago elsewhere.
      deps.directory.invalidate();
      const [snapshot, owners, withApplications] = await Promise.all([
        deps.directory.snapshot(),
        failClosed(() => deps.store.ownersOf(ids)),
        failClosed(() => deps.store.teamsWithApplications([...new Set(input.pairs.map((p) => p.team))])),
      ]);
      const unreachable = reachProblems(policy(), principalOf(res), input.pairs, owners);
      // Another team's application is named as a missing one would be: the import does not tell them apart.
      const reachable = new Set(snapshot.applications.map((a) => a.id).filter((a) => !unreachable.hidden.has(a)));
      const plan = planImport(input.pairs, {
        existing: reachable,
        owners,
        knownTeams: new Set([...withApplications, ...(res.locals.principal?.teams ?? [])]),
        allowNewTeams: input.allow_new_teams,
      });
      const problems = [...(plan.ok ? [] : plan.problems), ...unreachable.problems];
      if (!plan.ok || problems.length > 0)
        throw new GatewayError(
          'validation_failed',
          'The import was not applied: every pair must be acceptable.',
          problems,
        );
      const results = await Promise.all(plan.changes.map((change) => applyChange(deps, req, res, change)));
      const count = (status: string) => results.filter((r) => r.status === status).length;
      const failed = count('failed');
      res.status(failed > 0 ? 503 : 200).set('Cache-Control', 'no-store');
      if (failed > 0) res.set('Retry-After', '5');
      res.json({
        assigned: count('assigned'),
        transferred: count('transferred'),
        unchanged: count('unchanged'),
        failed,
        results,
      });
    },
  };
}

/**
 * For each pair, the one decision: the application as it is owned now (another team's, or an unowned one, is
 * hidden: reported as not existing), and the team it goes to (one of the holder's own for a `team` scope).
 */
function reachProblems(policy: Policy, me: Principal, pairs: Pair[], owners: ReadonlyMap<string, string>) {
  const hidden = new Set<string>();
  const problems: ErrorDetail[] = [];
  pairs.forEach((pair, row) => {
    const owner = owners.get(pair.application_id) ?? null;
    if (!decide(policy, me, 'ownership.manage', { kind: 'application', owner }).allowed)
      hidden.add(pair.application_id);
    if (!decide(policy, me, 'ownership.manage', { kind: 'new_application', team: pair.team }).allowed)
      problems.push({
        location: 'body',
        field: `pairs.${row}`,
        code: 'not_team_member',
        reason: 'not_team_member',
        message: `you may give applications only to your own teams, not ${pair.team}`,
      });
  });
  return { hidden, problems };
}

async function applyChange(
  deps: OwnershipDeps,
  req: Request,
  res: Response,
  change: PlannedChange,
): Promise<PlannedChange | (Omit<PlannedChange, 'status'> & { status: 'failed'; error: string })> {
  if (change.status === 'unchanged') return change;
  try {
    await deps.recorder.recordOwnershipChange(requestFacts(req, res), {
      applicationId: change.application_id,
      from: change.previous_team,
      to: change.team,
      via: 'import',
    });
    return change;
  } catch (err) {
    if (err instanceof AuditUnavailable) return { ...change, status: 'failed', error: 'audit_unavailable' };
    // Another change of this application committed first: this pair failed, the others of the import stand.
    if (err instanceof OwnerMoved) return { ...change, status: 'failed', error: 'ownership_unavailable' };
    throw err;
  }
}

function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new Error('ownership actions run after authenticate');
  return principal;
}

function pathId(req: Request, res: Response): string {
  const id = String(res.locals.params?.application_id ?? req.params.application_id);
  if (!ID_PATTERN.test(id))
    throw new GatewayError('validation_failed', undefined, [
      {
        location: 'path',
        field: 'application_id',
        code: 'invalid_id',
        message: 'must be 1-128 letters, digits, "_" or "-"',
      },
    ]);
  return id;
}

async function isKnownTeam(deps: OwnershipDeps, res: Response, name: string): Promise<boolean> {
  if (res.locals.principal?.teams.includes(name)) return true;
  return (await failClosed(() => deps.store.teamsWithApplications([name]))).has(name);
}

async function assertExistsUpstream(deps: OwnershipDeps, id: string, requestId: string): Promise<void> {
  const response = await deps.upstream.forward({ method: 'GET', path: `/applications/${id}/`, query: {}, requestId });
  if (response.status === 404)
    throw new GatewayError('not_found', 'No such application upstream.', [{ reason: 'unknown_application' }]);
  if (response.status !== 200)
    throw new GatewayError('upstream_bad_response', undefined, [{ upstream_status: response.status }]);
}

function presentOwner(applicationId: string, owner: string | null, assignedAt?: Date, assignedSeq?: bigint) {
  return {
    application_id: applicationId,
    team: owner,
    assigned_at: assignedAt?.toISOString() ?? null,
    assigned_by_sequence: assignedSeq?.toString() ?? null,
  };
}

function writeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ a: id })).toString('base64url');
}

function readCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    if (typeof parsed.a === 'string' && ID_PATTERN.test(parsed.a)) return parsed.a;
  } catch {
    // refused below
  }
  throw new GatewayError('validation_failed', undefined, [
    { location: 'query', field: 'cursor', code: 'invalid_cursor', message: 'not a cursor from this listing' },
  ]);
}
