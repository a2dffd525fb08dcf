import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { AuditUnavailable } from '../audit/bounded';
import type { AuditRecorder } from '../audit/recorder';
import { ID_PATTERN } from '../catalogue/schemas';
import { GatewayError } from '../errors/codes';
import type { ApplicationDirectory } from '../ownership/directory';
import { planImport, type PlannedChange } from '../ownership/import-plan';
import type { OwnershipStore } from '../ownership/store';
import { TEAM_PATTERN } from '../ownership/teams';
import { failClosed } from '../pipeline/authorize-target';
import { requirePermission } from '../pipeline/authorize';
import type { Policy } from '../policy/policy';
import type { Upstream } from '../upstream/client';
import { parseOrFail } from './parse';
import { refusalsAudited } from './refusals';
import { requestFacts } from '../pipeline/audit-facts';

export interface OwnershipDeps {
  store: OwnershipStore;
  directory: ApplicationDirectory;
  recorder: AuditRecorder;
  upstream: Upstream;
}

export const MAX_IMPORT_PAIRS = 1_000;
const team = z.string().regex(TEAM_PATTERN, 'must be a team name: 1-64 letters, digits, "_", ".", ":" or "-"');
const applicationId = z.string().regex(ID_PATTERN, 'must be an application id');
const assignBody = z.strictObject({ team, allow_new_team: z.boolean().default(false) });
const importBody = z.strictObject({
  pairs: z
    .array(z.strictObject({ application_id: applicationId, team }))
    .min(1)
    .max(MAX_IMPORT_PAIRS),
  allow_new_teams: z.boolean().default(false),
});
const pageQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  page_size: z.coerce.number().int().min(1).max(1000).default(100),
});
// An import of 1,000 pairs with the longest ids and team names is about 200 KB.
const body = express.json({ limit: '256kb', strict: true });

/**
 * `/v1/ownership`: who owns which application, for holders of `ownership.manage`. Every change is an audited
 * mutation (request entry first; the response entry's commit makes the change), and every refusal is recorded.
 */
export function ownershipRoutes(deps: OwnershipDeps, policy: () => Policy): Router {
  const router = Router();
  const permitted = requirePermission(policy, 'ownership.manage');
  router.use('/v1/ownership', async (req, res, next) => {
    try {
      permitted(req, res, next);
    } catch (err) {
      if (err instanceof GatewayError)
        await deps.recorder.recordRefusal(requestFacts(req, res, req.body), err, actionOf(req));
      throw err;
    }
  });

  router.get('/v1/ownership/applications/:application_id', async (req, res) => {
    const id = pathId(req);
    const owner = await failClosed(() => deps.store.ownerOf(id));
    res
      .set('Cache-Control', 'no-store')
      .json(presentOwner(id, owner?.team ?? null, owner?.assignedAt, owner?.assignedSeq));
  });

  router.put(
    '/v1/ownership/applications/:application_id',
    body,
    refusalsAudited(deps.recorder, 'ownership.assign', async (req, res) => {
      const id = pathId(req);
      const { team: to, allow_new_team } = parseOrFail(assignBody, req.body, 'body');
      const owner = await failClosed(() => deps.store.ownerOf(id));
      const from = owner?.team ?? null;
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
      res.locals.team = from;
      await deps.recorder.recordOwnershipChange(requestFacts(req, res), { applicationId: id, from, to, via: 'assign' });
      const now = await failClosed(() => deps.store.ownerOf(id));
      res
        .set('Cache-Control', 'no-store')
        .json({ ...presentOwner(id, now?.team ?? to, now?.assignedAt, now?.assignedSeq), previous_team: from });
    }),
  );

  router.get('/v1/ownership/unowned', async (req, res) => {
    const { page, page_size } = parseOrFail(pageQuery, req.query, 'query');
    const [snapshot, owned] = await Promise.all([deps.directory.snapshot(), failClosed(() => deps.store.allOwned())]);
    const unowned = snapshot.applications.filter((a) => !owned.has(a.id));
    const objects = unowned.slice((page - 1) * page_size, page * page_size);
    res.set('Cache-Control', 'no-store').json({ total: unowned.length, count: objects.length, page, objects });
  });

  router.post(
    '/v1/ownership/import',
    body,
    refusalsAudited(deps.recorder, 'ownership.import', async (req, res) => {
      const input = parseOrFail(importBody, req.body, 'body');
      const ids = input.pairs.map((p) => p.application_id);
      // A fresh walk: an import must not be refused for an application created a moment ago elsewhere.
      deps.directory.invalidate();
      const [snapshot, owners, withApplications] = await Promise.all([
        deps.directory.snapshot(),
        failClosed(() => deps.store.ownersOf(ids)),
        failClosed(() => deps.store.teamsWithApplications([...new Set(input.pairs.map((p) => p.team))])),
      ]);
      const plan = planImport(input.pairs, {
        existing: new Set(snapshot.applications.map((a) => a.id)),
        owners,
        knownTeams: new Set([...withApplications, ...(res.locals.principal?.teams ?? [])]),
        allowNewTeams: input.allow_new_teams,
      });
      if (!plan.ok)
        throw new GatewayError(
          'validation_failed',
          'The import was not applied: every pair must be acceptable.',
          plan.problems,
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
    }),
  );
  return router;
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
    throw err;
  }
}

function actionOf(req: Request): string {
  if (req.method === 'PUT') return 'ownership.assign';
  if (req.method === 'POST') return 'ownership.import';
  return 'ownership.read';
}

function pathId(req: Request): string {
  const id = String(req.params.application_id);
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
