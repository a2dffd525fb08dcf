import express, { Router, type ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { signCheckpoint } from '../audit/checkpoint';
import { nowMicros } from '../audit/entry';
import type { AuditKeys } from '../audit/keys';
import { presentEntry } from '../audit/present';
import type { AuditRecorder } from '../audit/recorder';
import type { AuditStore } from '../audit/store';
import { verifyChain, type Verification } from '../audit/verify';
import { GatewayError } from '../http/errors';
import { toGatewayError } from '../http/error-handler';
import { refuseUndecodable } from '../http/json-body';
import { requirePermission } from '../pipeline/authorize';
import type { Policy } from '../policy/policy';
import { readerTeams, registerEventRoutes } from './audit-events';
import { parseOrFail } from './parse';

export interface AuditDeps {
  store: AuditStore;
  keys: AuditKeys;
  recorder: AuditRecorder;
}

const lookupBody = z.strictObject({ key: z.string().min(1).max(512) });
const verifyQuery = z.strictObject({ checkpoint: z.string().max(2048).optional() });

/** The audit trail's review endpoints, for holders of `audit.read`. Each use is itself recorded. */
export function auditRoutes(audit: AuditDeps, policy: () => Policy, bodyLimitBytes: number): Router {
  const router = Router();
  const permitted = requirePermission(policy, 'audit.read');
  // Watchers are watched: a refused attempt to read the trail is recorded too.
  router.use('/v1/audit', async (req, res, next) => {
    try {
      permitted(req, res, next);
    } catch (err) {
      if (err instanceof GatewayError) {
        res.locals.accessRecorded = true;
        await audit.recorder.recordAccess(req, res, 'audit.denied', { path: req.baseUrl + req.path }, err);
      }
      throw err;
    }
  });

  // Walking the chain reads every entry: callers asking at the same moment share one walk.
  const walks = new Map<string, Promise<Verification>>();
  const sharedWalk = (checkpoint: string | undefined) => {
    const key = checkpoint ?? '';
    let walk = walks.get(key);
    if (!walk) {
      walk = verifyChain(audit.store, audit.keys, checkpoint).finally(() => walks.delete(key));
      walks.set(key, walk);
    }
    return walk;
  };

  router.get('/v1/audit/verify', async (req, res) => {
    const query = parseOrFail(verifyQuery, req.query, 'query');
    const result = await sharedWalk(query.checkpoint);
    await audit.recorder.recordAccess(req, res, 'audit.verify', { checkpoint: query.checkpoint !== undefined, ok: result.ok });
    res.set('Cache-Control', 'no-store').json(result);
  });

  router.get('/v1/audit/checkpoint', async (req, res) => {
    const checkpoint = signCheckpoint(audit.keys, await audit.store.latest(), nowMicros());
    await audit.recorder.recordAccess(req, res, 'audit.checkpoint', { sequence: checkpoint.sequence });
    res.set('Cache-Control', 'no-store').json(checkpoint);
  });

  // POST, so a leaked key being looked up never sits in a URL (proxies and browsers log those).
  const lookupJson = express.json({ limit: bodyLimitBytes });
  router.post('/v1/audit/lookup-key', (req, res, next) => lookupJson(req, res, refuseUndecodable(req, next)), async (req, res) => {
    const { key } = parseOrFail(lookupBody, req.body, 'body');
    const fingerprint = audit.keys.fingerprint(key);
    const teams = readerTeams(res);
    const entries = (await audit.store.withFingerprint(fingerprint, 1000)).filter((e) => teams === undefined || (e.team !== null && teams.includes(e.team)));
    await audit.recorder.recordAccess(req, res, 'audit.lookup_key', { fingerprint, matches: entries.length });
    res.set('Cache-Control', 'no-store').json({ fingerprint, entries: entries.map(presentEntry) });
  });
  registerEventRoutes(router, audit);
  router.use(recordRefusedRead(audit.recorder));
  return router;
}

/** The action a refused read is recorded under, by route. */
const REFUSED_ACTIONS: Record<string, string> = {
  '/v1/audit/events': 'audit.query',
  '/v1/audit/events/:sequence': 'audit.read_event',
  '/v1/audit/verify': 'audit.verify',
  '/v1/audit/checkpoint': 'audit.checkpoint',
  '/v1/audit/lookup-key': 'audit.lookup_key',
};

/**
 * A read refused after the caller was allowed to read the trail (an invalid filter, a busy verification) leaves
 * an `access` entry with the refusal, like a denied one (issue 18, finding 5). Not for internal errors: the
 * database may be what failed.
 */
function recordRefusedRead(recorder: AuditRecorder): ErrorRequestHandler {
  return async (err, req, res, next) => {
    const error = toGatewayError(err);
    if (!res.locals.accessRecorded && error.code !== 'internal_error' && res.locals.principal) {
      res.locals.accessRecorded = true;
      const route = (req.route as { path?: string } | undefined)?.path;
      await recorder.recordAccess(req, res, (route && REFUSED_ACTIONS[route]) ?? 'audit.refused', { path: req.baseUrl + req.path }, error);
    }
    next(err);
  };
}
