import express, { Router } from 'express';
import { z } from 'zod';
import { signCheckpoint } from '../audit/checkpoint';
import { nowMicros } from '../audit/entry';
import type { AuditKeys } from '../audit/keys';
import { presentEntry } from '../audit/present';
import type { AuditRecorder } from '../audit/recorder';
import type { AuditStore } from '../audit/store';
import { verifyChain, type Verification } from '../audit/verify';
import { GatewayError } from '../http/errors';
import { requirePermission } from '../pipeline/authorize';
import type { Policy } from '../policy/policy';

export interface AuditDeps {
  store: AuditStore;
  keys: AuditKeys;
  recorder: AuditRecorder;
}

const lookupBody = z.strictObject({ key: z.string().min(1).max(512) });
const verifyQuery = z.strictObject({ checkpoint: z.string().max(2048).optional() });

/** Integrity and lookup endpoints of the audit trail, for holders of `audit.read`. Each use is itself recorded. */
export function auditRoutes(audit: AuditDeps, policy: () => Policy, bodyLimitBytes: number): Router {
  const router = Router();
  router.use('/v1/audit', requirePermission(policy, 'audit.read'));

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
    const query = parse(verifyQuery, req.query, 'query');
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
  router.post('/v1/audit/lookup-key', express.json({ limit: bodyLimitBytes }), async (req, res) => {
    const { key } = parse(lookupBody, req.body, 'body');
    const fingerprint = audit.keys.fingerprint(key);
    const entries = await audit.store.withFingerprint(fingerprint, 1000);
    await audit.recorder.recordAccess(req, res, 'audit.lookup_key', { fingerprint, matches: entries.length });
    res.set('Cache-Control', 'no-store').json({ fingerprint, entries: entries.map(presentEntry) });
  });
  return router;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, location: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new GatewayError(
    'validation_failed',
    undefined,
    result.error.issues.map((i) => ({ location, field: i.path.join('.') || undefined, code: i.code, message: i.message })),
  );
}
