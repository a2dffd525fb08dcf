import type { Response } from 'express';
import type { z } from 'zod';
import type { AuditKeys } from '../audit/trail/keys';
import { presentEntry } from '../audit/review/present';
import type { AuditRecorder } from '../audit/recording/recorder';
import type { AuditStore } from '../audit/trail/store';
import { guarded, type AuditReader } from '../audit/review/reader';
import type { VerifyWalks } from '../audit/review/chain-walks';
import type { Verification } from '../audit/review/chain-verify';
import type { TransparencyLog } from '../audit/log/log';
import { lastFull, type LastFullVerification } from '../audit/watch/store';
import { personKey } from '../auth/person';
import { GatewayError } from '../errors/codes';
import { requestFacts } from '../pipeline/audit-facts';
import type { verifyQuery } from '../catalogue/gateway-schemas';
import { eventHandlers, readerTeams } from './audit-events';
import { logHandlers } from './audit-log';
import type { ActionHandler, ActionHandlers } from '../pipeline/handlers';

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

/**
 * The audit trail's review actions, for holders of `audit.read` (decided, metered and refused like every action:
 * a refused read leaves an `access` entry through the one refusal recorder). Each use is itself recorded.
 */
export function auditHandlers(audit: AuditDeps): ActionHandlers {
  const logChecks = new Map<boolean, Promise<Verification>>();
  const sharedLogCheck = (full: boolean) => {
    let check = logChecks.get(full);
    if (!check) {
      check = guarded(audit.log.verify(full)).finally(() => logChecks.delete(full));
      logChecks.set(full, check);
    }
    return check;
  };
  const handlers: ActionHandlers = {
    ...eventHandlers(audit),
    ...logHandlers(audit),

    // Walking the chain reads every entry: one walk per instance at a time, shared by every caller it can serve.
    async 'audit.verify'(req, res) {
      const query = res.locals.actionInput?.query as z.infer<typeof verifyQuery>;
      // A legacy JSON checkpoint token: the HMAC chain walk of before. Otherwise the log verifies what it took in
      // since the last verification (issue 15), or all with full=true.
      const full = query.full === 'true';
      let result: Verification;
      if (query.checkpoint !== undefined) {
        const walk = audit.walks.verify(query.checkpoint);
        if ('busy' in walk) {
          throw new GatewayError(
            'rate_limited',
            'A verification of the whole chain is in progress; retry when it is done.',
            [{ reason: 'verification_in_progress' }],
            { retryAfterS: walk.retryAfterS },
          );
        }
        result = await walk;
      } else result = await sharedLogCheck(full);
      await audit.recorder.recordAccess(requestFacts(req, res), 'audit.verify', {
        checkpoint: query.checkpoint !== undefined,
        ...(full ? { full } : {}),
        ok: result.ok,
      });
      res.set('Cache-Control', 'no-store').json({ ...result, last_full_verification: await guarded(lastFull(audit)) });
    },

    // POST, so a leaked key being looked up never sits in a URL (proxies and browsers log those).
    async 'audit.lookup_key'(req, res) {
      const { key } = res.locals.actionInput?.body as { key: string };
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
  };
  const slot = readSlots(audit.readsPerCaller);
  return Object.fromEntries(Object.entries(handlers).map(([id, handler]) => [id, slot(handler)]));
}

/**
 * Each person's audit reads in progress at once, at most `limit`: one reviewer's dozen expensive searches cannot
 * fill the read pool for everyone else (issue 18, finding 3). Counted per person (issuer and subject) until the
 * response is done (an export holds its slot while it streams).
 */
function readSlots(limit: number): (handler: ActionHandler) => ActionHandler {
  const inFlight = new Map<string, number>();
  const take = (res: Response): void => {
    const principal = res.locals.principal;
    if (!principal) return;
    const who = personKey(principal);
    const count = inFlight.get(who) ?? 0;
    if (count >= limit) {
      throw new GatewayError(
        'rate_limited',
        `At most ${limit} audit reads of yours can run at once; retry when one is done.`,
        [{ reason: 'audit_reads_in_flight', limit }],
        { retryAfterS: 1 },
      );
    }
    inFlight.set(who, count + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (inFlight.get(who) ?? 1) - 1;
      if (left <= 0) inFlight.delete(who);
      else inFlight.set(who, left);
    };
    res.once('finish', release);
    res.once('close', release);
  };
  return (handler) => (req, res) => {
    take(res);
    return handler(req, res);
  };
}
