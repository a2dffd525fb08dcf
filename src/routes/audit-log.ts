import { once } from 'node:events';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { signCheckpoint } from '../audit/review/json-checkpoint';
import { nowMicros } from '../audit/trail/entry';
import { leafRecord, leafText } from '../audit/log/leaf';
import { LogRangeError, servedNote } from '../audit/log/log';
import type { SigningKeyPeriod } from '../audit/log/tree-store';
import { GatewayError } from '../errors/codes';
import type { AuditDeps } from './audit';
import { readerTeams } from './audit-events';
import type { consistencyProofQuery, inclusionProofQuery, logEntriesQuery } from '../catalogue/gateway-schemas';
import type { ActionHandlers } from '../pipeline/handlers';
import { requestFacts } from '../pipeline/audit-facts';

const PAGE = 2000;

/** A proof asked beyond the log: the caller's input, so a 400 naming the field. */
async function inRange<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof LogRangeError)
      throw new GatewayError('validation_failed', undefined, [
        { location: 'query', field: err.field, code: 'out_of_range', message: err.message },
      ]);
    throw err;
  }
}

/**
 * The outcome of `work` once `recording` (an access entry being committed alongside it) is done too: nothing is
 * answered, not even a refusal, before the entry is committed. An entry recorded so for a read that then fails for
 * its input (a tree rebuilt smaller underneath the gateway) is followed by the refusal's own entry.
 */
async function alongside<T>(work: Promise<T>, recording: Promise<void> | undefined): Promise<T> {
  const [result] = await Promise.allSettled([work, recording]);
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

const plain = (res: Response, text: string) =>
  res.set('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(text);

/**
 * The trail as a transparency log (issue 15; docs/audit-format.md): signed checkpoints (C2SP signed notes),
 * the key that signs them, inclusion and consistency proofs, and the entries as the log's leaves. Each use
 * is recorded like every other read of the trail.
 */
export function logHandlers(audit: AuditDeps): ActionHandlers {
  const { log } = audit;
  return {
    // text/plain: the signed note with witness cosignatures. `Accept: application/json` (without text/plain) still
    // gets the JSON checkpoint of before, deprecated, so tokens kept for `/v1/audit/verify?checkpoint=` go on working.
    async 'audit.checkpoint'(req, res) {
      if (wantsLegacyJson(req)) {
        const checkpoint = signCheckpoint(audit.keys, await audit.store.latest(), nowMicros());
        await audit.recorder.recordAccess(requestFacts(req, res), 'audit.checkpoint', {
          sequence: checkpoint.sequence,
          format: 'legacy_json',
        });
        return res.set('Cache-Control', 'no-store').json(checkpoint);
      }
      const checkpoint = await log.latest();
      await audit.recorder.recordAccess(requestFacts(req, res), 'audit.checkpoint', {
        tree_size: checkpoint?.treeSize ?? 0,
      });
      plain(res, checkpoint ? servedNote(checkpoint) : '');
    },

    // On demand: bring the tree up to date, sign if it grew, collect the witnesses' cosignatures, then answer.
    async 'audit.sign_checkpoint'(req, res) {
      const checkpoint = await log.signNow();
      await audit.recorder.recordAccess(requestFacts(req, res), 'audit.checkpoint', {
        tree_size: checkpoint?.treeSize ?? 0,
        on_demand: true,
      });
      plain(res, checkpoint ? servedNote(checkpoint) : '');
    },

    async 'audit.public_key'(req, res) {
      await audit.recorder.recordAccess(requestFacts(req, res), 'audit.public_key', {});
      res.set('Cache-Control', 'no-store').json({
        origin: log.origin,
        algorithm: 'Ed25519',
        public_key: log.identity.publicKeyPem,
        verifier_key: log.identity.signer.vkey,
        keys: signingKeyHistory(
          log.identity.signer.vkey,
          log.origin,
          log.identity.publicKeyPem,
          await log.tree.signingKeys(),
        ),
      });
    },

    // The proof, its tree size's checkpoint and the range check come from one read of the database. A proof within the
    // tree this instance has seen cannot be refused for its input: its access entry is then committed while the proof
    // is read, not after it (still before the answer).
    async 'audit.proof_inclusion'(req, res) {
      const query = res.locals.actionInput?.query as z.infer<typeof inclusionProofQuery>;
      const size = query.tree_size;
      const record = ({ sequence, tree_size }: { sequence: string; tree_size: number }) =>
        audit.recorder.recordAccess(requestFacts(req, res), 'audit.proof_inclusion', { sequence, tree_size });
      const known = size !== undefined && query.sequence <= size && size <= log.knownSize();
      const early = known ? record({ sequence: String(query.sequence), tree_size: size }) : undefined;
      const { proof, checkpoint } = await alongside(inRange(log.inclusion(query.sequence, size)), early);
      if (!early) await record(proof);
      res.set('Cache-Control', 'no-store').json({ ...proof, checkpoint: checkpoint ? servedNote(checkpoint) : null });
    },

    async 'audit.proof_consistency'(req, res) {
      const query = res.locals.actionInput?.query as z.infer<typeof consistencyProofQuery>;
      const record = () =>
        audit.recorder.recordAccess(requestFacts(req, res), 'audit.proof_consistency', {
          from: query.from,
          to: query.to,
        });
      const early = query.from <= query.to && query.to <= log.knownSize() ? record() : undefined;
      const { proof, checkpoint } = await alongside(inRange(log.consistency(query.from, query.to)), early);
      if (!early) await record();
      res.set('Cache-Control', 'no-store').json({ ...proof, checkpoint: checkpoint ? servedNote(checkpoint) : null });
    },

    // The entries as the log's leaves, one canonical line each (docs/audit-format.md): what the offline verifier
    // rebuilds the tree from. The whole log only: a team-scoped reader may not see other teams' entries.
    async 'audit.export_log'(req, res) {
      const query = res.locals.actionInput?.query as z.infer<typeof logEntriesQuery>;
      if (readerTeams(res) !== undefined)
        throw new GatewayError(
          'forbidden',
          "The log export holds every team's entries: it needs audit.read on every team.",
        );
      const treeSize = (await log.tree.state()).treeSize;
      const to = Math.min(query.to ?? treeSize, treeSize);
      await audit.recorder.recordAccess(requestFacts(req, res), 'audit.export_log', { from: query.from, to });
      res.set('Cache-Control', 'no-store').type('application/x-ndjson');
      const closed = once(res, 'close');
      for (let at = query.from; at < to && !res.destroyed; at += PAGE) {
        const entries = await audit.store.readChain(BigInt(at), Math.min(PAGE, to - at));
        const chunk = entries.map((e) => `${leafText(leafRecord(e))}\n`).join('');
        if (!res.write(chunk) && !res.destroyed) await Promise.race([once(res, 'drain'), closed]);
        if (entries.length === 0) break;
      }
      res.end();
    },
  };
}

function wantsLegacyJson(req: Request): boolean {
  const accept = req.get('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/plain');
}

const period = (p: { treeSize: number; signedAt: string }) => ({ tree_size: p.treeSize, signed_at: p.signedAt });

/**
 * Every key the log has signed checkpoints with, the current one first (listed even before it has signed one), each
 * with its first and last checkpoint: a checkpoint kept from before a rotation finds the key that verifies it.
 */
function signingKeyHistory(currentVkey: string, origin: string, publicKeyPem: string, known: SigningKeyPeriod[]) {
  const current = known.find((k) => k.verifierKey === currentVkey);
  const earlier = known.filter((k) => k.verifierKey !== currentVkey);
  return [
    {
      verifier_key: currentVkey,
      origin,
      public_key: publicKeyPem,
      current: true,
      first_checkpoint: current ? period(current.first) : null,
      last_checkpoint: current ? period(current.last) : null,
    },
    ...earlier.map((k) => ({
      verifier_key: k.verifierKey,
      origin: k.origin,
      public_key: k.publicKeyPem,
      current: false,
      first_checkpoint: period(k.first),
      last_checkpoint: period(k.last),
    })),
  ];
}
