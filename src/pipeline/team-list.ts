import type { RequestHandler } from 'express';
import type { ApplicationDirectory } from '../ownership/directory';
import type { OwnershipStore } from '../ownership/store';
import type { UpstreamBudget } from '../ratelimit/upstream-budget';
import { failClosed } from './decide-action';

const DEFAULT_PAGE_SIZE = 10;

/**
 * `GET /v1/applications` for a `team`-scoped caller: the caller's teams' applications only, paged by the gateway
 * with the reference's envelope, so `total`, short pages and page numbers say nothing about other teams.
 */
export function serveTeamList(
  ownership: OwnershipStore,
  directory: ApplicationDirectory,
  budget: UpstreamBudget,
): RequestHandler {
  return async (_req, res, next) => {
    const { principal, operation, decision, input } = res.locals;
    if (operation?.id !== 'applications.list' || !decision?.allowed || decision.scope !== 'team') return next();
    if (!principal || !input) throw new Error('serveTeamList runs after validate');
    // Served from the gateway's own walk of the Management API, which the shared budget meters like a forward.
    await budget.take(false);
    const page = Number(input.query.page ?? 1);
    const pageSize = Number(input.query.page_size ?? DEFAULT_PAGE_SIZE);
    const active = input.query.active === undefined ? undefined : input.query.active === 'True';
    const [owned, snapshot] = await Promise.all([
      failClosed(() => ownership.ownedBy(principal.teams)),
      directory.snapshot(),
    ]);
    const visible = snapshot.applications.filter(
      (a) => owned.has(a.id) && (active === undefined || a.active === active),
    );
    const objects = visible.slice((page - 1) * pageSize, page * pageSize);
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .json({ total: visible.length, count: objects.length, page, objects });
  };
}
