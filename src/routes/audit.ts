import express, { Router } from 'express';
import { z } from 'zod';
import type { AuditKeys } from '../audit/keys';
import { presentEntry } from '../audit/present';
import type { AuditRecorder } from '../audit/recorder';
import type { AuditStore } from '../audit/store';
import { verifyChain, type Verification } from '../audit/verify';
import { GatewayError } from '../http/errors';
import { requirePermission } from '../pipeline/authorize';
import type { Policy } from '../policy/policy';
import { readerTeams, registerEventRoutes } from './audit-events';
import { registerLogRoutes } from './audit-log';
import type { TransparencyLog } from '../audit/log/log';
import { parseOrFail } from './parse';

export interface AuditDeps {
  store: AuditStore;
  keys: AuditKeys;
  recorder: AuditRecorder;
  /** The trail as a transparency log (issue 15): tree, checkpoints, proofs. */
  log: TransparencyLog;
}

const lookupBody = z.strictObject({ key: z.string().min(1).max(512) });
const verifyQuery = z.strictObject({ checkpoint: z.string().max(2048).optional(), full: z.enum(['true', 'false']).optional() });

/** The audit trail's review endpoints, for holders of `audit.read`. Each use is itself recorded. */
export function auditRoutes(audit: AuditDeps, policy: () => Policy, bodyLimitBytes: number): Router {
  const router = Router();
  const permitted = requirePermission(policy, 'audit.read');
  // Watchers are watched: a refused attempt to read the trail is recorded too.
  router.use('/v1/audit', async (req, res, next) => {
    try {
      permitted(req, res, next);
    } catch (err) {
      if (err instanceof GatewayError) await audit.recorder.recordAccess(req, res, 'audit.denied', { path: req.baseUrl + req.path }, err);
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
  const logChecks = new Map<boolean, Promise<Verification>>();
  const sharedLogCheck = (full: boolean) => {
    let check = logChecks.get(full);
    if (!check) {
      check = audit.log.verify(full).finally(() => logChecks.delete(full));
      logChecks.set(full, check);
    }
    return check;
  };

  router.get('/v1/audit/verify', async (req, res) => {
    const query = parseOrFail(verifyQuery, req.query, 'query');
    // A legacy JSON checkpoint token: the HMAC chain walk of before. Otherwise the log verifies what it took in
    // since the last verification (issue 15), or everything with full=true.
    const full = query.full === 'true';
    const result = query.checkpoint !== undefined ? await sharedWalk(query.checkpoint) : await sharedLogCheck(full);
    await audit.recorder.recordAccess(req, res, 'audit.verify', { checkpoint: query.checkpoint !== undefined, ...(full ? { full } : {}), ok: result.ok });
    res.set('Cache-Control', 'no-store').json(result);
  });

  registerLogRoutes(router, audit);

  // POST, so a leaked key being looked up never sits in a URL (proxies and browsers log those).
  router.post('/v1/audit/lookup-key', express.json({ limit: bodyLimitBytes }), async (req, res) => {
    const { key } = parseOrFail(lookupBody, req.body, 'body');
    const fingerprint = audit.keys.fingerprint(key);
    const teams = readerTeams(res);
    // Under every key of the keyring: an entry recorded before a rotation has the fingerprint its key made.
    const entries = (await audit.store.withFingerprint(audit.keys.fingerprints(key), 1000)).filter((e) => teams === undefined || (e.team !== null && teams.includes(e.team)));
    await audit.recorder.recordAccess(req, res, 'audit.lookup_key', { fingerprint, matches: entries.length });
    res.set('Cache-Control', 'no-store').json({ fingerprint, entries: entries.map(presentEntry) });
  });
  registerEventRoutes(router, audit);
  return router;
}
