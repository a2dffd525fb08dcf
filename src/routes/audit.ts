import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AuditKeys } from '../audit/keys';
import { presentEntry } from '../audit/present';
import type { AuditRecorder } from '../audit/recorder';
import type { AuditStore } from '../audit/store';
import type { AuditReader } from '../audit/reader';
import type { VerifyWalks } from '../audit/verify-walk';
import type { Verification } from '../audit/verify';
import { lastFull, type LastFullVerification } from '../audit/watch/store';
import { GatewayError } from '../errors/codes';
import { toGatewayError } from '../http/error-handler';
import { refuseUndecodable } from '../http/json-body';
import { requirePermission } from '../pipeline/authorize';
import type { Policy } from '../policy/policy';
import { readerTeams, registerEventRoutes } from './audit-events';
import { registerLogRoutes } from './audit-log';
import type { TransparencyLog } from '../audit/log/log';
import { parseOrFail } from './parse';
import { requestFacts } from '../pipeline/audit-facts';

export interface AuditDeps {
  store: AuditStore;
  keys: AuditKeys;
  recorder: AuditRecorder;
  /** Reviews read through the read pool; the store is the write path. */
  reader: AuditReader;
  walks: VerifyWalks;
  /** AUDIT_READS_PER_CALLER. */
  readsPerCaller: number;
  /** The trail as a transparency log (issue 15): tree, checkpoints, proofs. */
  log: TransparencyLog;
  /** The background full verification's last result (issue 25). */
  fullVerification?: { last(): Promise<LastFullVerification | null> };
}

const lookupBody = z.strictObject({ key: z.string().min(1).max(512) });
const verifyQuery = z.strictObject({
  checkpoint: z.string().max(2048).optional(),
  full: z.enum(['true', 'false']).optional(),
});

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
        await audit.recorder.recordAccess(
          requestFacts(req, res),
          'audit.denied',
          { path: req.baseUrl + req.path },
          err,
        );
      }
      throw err;
    }
  });

  router.use('/v1/audit', limitReadsPerCaller(audit.readsPerCaller));
  const logChecks = new Map<boolean, Promise<Verification>>();
  const sharedLogCheck = (full: boolean) => {
    let check = logChecks.get(full);
    if (!check) {
      check = audit.log.verify(full).finally(() => logChecks.delete(full));
      logChecks.set(full, check);
    }
    return check;
  };

  // Walking the chain reads every entry: one walk per instance at a time, shared by every caller it can serve.
  router.get('/v1/audit/verify', async (req, res) => {
    const query = parseOrFail(verifyQuery, req.query, 'query');
    // A legacy JSON checkpoint token: the HMAC chain walk of before, one walk per instance shared by every caller it
    // can serve. Otherwise the log verifies what it took in since the last verification (issue 15), or all with full=true.
    const full = query.full === 'true';
    let result: Verification;
    if (query.checkpoint !== undefined) {
      const walk = audit.walks.verify(query.checkpoint);
      if ('busy' in walk) {
        throw new GatewayError(
          'rate_limited',
          'A verification of the whole chain is in progress; retry when it is done.',
          [{ reason: 'verification_in_progress' }],
          { 'Retry-After': String(walk.retryAfterS) },
        );
      }
      result = await walk;
    } else result = await sharedLogCheck(full);
    await audit.recorder.recordAccess(requestFacts(req, res), 'audit.verify', {
      checkpoint: query.checkpoint !== undefined,
      ...(full ? { full } : {}),
      ok: result.ok,
    });
    res.set('Cache-Control', 'no-store').json({ ...result, last_full_verification: await lastFull(audit) });
  });

  registerLogRoutes(router, audit);

  // POST, so a leaked key being looked up never sits in a URL (proxies and browsers log those).
  const lookupJson = express.json({ limit: bodyLimitBytes });
  router.post(
    '/v1/audit/lookup-key',
    (req, res, next) => lookupJson(req, res, refuseUndecodable(req, next)),
    async (req, res) => {
      const { key } = parseOrFail(lookupBody, req.body, 'body');
      const fingerprint = audit.keys.fingerprint(key);
      const teams = readerTeams(res);
      // Under every key of the keyring: an entry recorded before a rotation has the fingerprint its key made.
      const entries = (await audit.reader.withFingerprint(audit.keys.fingerprints(key), 1000)).filter(
        (e) => teams === undefined || (e.team !== null && teams.includes(e.team)),
      );
      await audit.recorder.recordAccess(requestFacts(req, res), 'audit.lookup_key', {
        fingerprint,
        matches: entries.length,
      });
      res.set('Cache-Control', 'no-store').json({ fingerprint, entries: entries.map(presentEntry) });
    },
  );
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
      await recorder.recordAccess(
        requestFacts(req, res),
        (route && REFUSED_ACTIONS[route]) ?? 'audit.refused',
        { path: req.baseUrl + req.path },
        error,
      );
    }
    next(err);
  };
}

/**
 * Each caller's audit reads in progress at once, at most `limit`: one reviewer's dozen expensive searches cannot
 * fill the read pool for everyone else (issue 18, finding 3). Counted by `sub` until the response is done
 * (an export holds its slot while it streams).
 */
function limitReadsPerCaller(limit: number): RequestHandler {
  const inFlight = new Map<string, number>();
  return (req, res, next) => {
    const sub = res.locals.principal?.sub;
    if (sub === undefined) return next();
    const count = inFlight.get(sub) ?? 0;
    if (count >= limit) {
      throw new GatewayError(
        'rate_limited',
        `At most ${limit} audit reads of yours can run at once; retry when one is done.`,
        [{ reason: 'audit_reads_in_flight', limit }],
        { 'Retry-After': '1' },
      );
    }
    inFlight.set(sub, count + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (inFlight.get(sub) ?? 1) - 1;
      if (left <= 0) inFlight.delete(sub);
      else inFlight.set(sub, left);
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}
