import type { Logger } from 'pino';
import type { PrismaClient } from '../../generated/prisma/client';
import type { AuditKeys } from '../trail/keys';
import type { AuditStore } from '../trail/store';
import { integrateBatch } from './integrate';
import {
  consistencyRanges,
  EMPTY_ROOT,
  inclusionRanges,
  nodeKey,
  planRanges,
  rootRange,
  type NodeId,
  type Range,
} from './merkle';
import { checkpointBody, signNote } from './note';
import type { LogIdentity } from './signing-key';
import { createTreeStore, TreeDamaged, type ProofRead, type StoredCheckpoint, type TreeStore } from './tree-store';
import { verifyLog, type LogVerification } from './verify-log';
import { pushCheckpoint, type AlertReason, type PushResult, type Witness } from './witness-push';

const BATCH = 2000;

export interface TransparencyLogOptions {
  prisma: PrismaClient;
  store: AuditStore;
  keys: AuditKeys;
  identity: LogIdentity;
  logger: Logger;
  /** AUDIT_CHECKPOINT_INTERVAL_S: how often the tree is brought up to date and, if it grew, a checkpoint signed. */
  intervalS: number;
  /**
   * AUDIT_WITNESS_URLS with AUDIT_WITNESS_KEYS: each new checkpoint is handed to these witnesses
   * (c2sp.org/tlog-witness); what they return is stored only if it verifies with the witness's key.
   */
  witnesses: Witness[];
  writeTimeoutMs: number;
  /**
   * A witness refused a checkpoint, or answered with a cosignature that does not verify with its key: log at error,
   * count, and record a `system` entry (wired in compose).
   */
  onRefusal(witness: string, reason: AlertReason, details: Record<string, unknown>): Promise<void>;
}

export interface InclusionProof {
  sequence: string;
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  proof: string[];
}

export interface ConsistencyProof {
  from: number;
  to: number;
  proof: string[];
}

/** A proof with the checkpoint of its tree size (undefined if none was signed at it), as an answer carries it. */
export interface Proven<P> {
  proof: P;
  checkpoint: StoredCheckpoint | undefined;
}

/** A proof asked for a tree size the log does not (yet) have, or a leaf outside it. */
export class LogRangeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TransparencyLog {
  origin: string;
  identity: LogIdentity;
  tree: TreeStore;
  /** Brings the tree up to the newest committed entry; the returned size, and the first gap if the trail has one. */
  integrate(): Promise<{ size: number; gapAt?: bigint }>;
  /** Signs a checkpoint of the current tree if it grew since the last one, hands it to the witnesses, returns the latest. */
  signNow(): Promise<StoredCheckpoint | undefined>;
  /** The latest checkpoint; signs one first if none exists yet or the last is older than the interval and the tree grew. */
  latest(): Promise<StoredCheckpoint | undefined>;
  /** One round trip to the database when `treeSize` is given, two when it is the latest checkpoint's. */
  inclusion(sequence: number, treeSize?: number): Promise<Proven<InclusionProof>>;
  /**
   * The largest tree size this instance has seen the log hold. The tree only grows, so a proof up to it is never
   * refused for its range (a tree rebuilt smaller underneath the gateway is refused as before, by the read itself).
   */
  knownSize(): number;
  consistency(from: number, to: number): Promise<Proven<ConsistencyProof>>;
  verify(full: boolean): Promise<LogVerification>;
  lastPush(): PushResult[];
  start(): void;
  stop(): Promise<void>;
}

/** Renders a stored checkpoint as served: the log-signed note with every witness cosignature appended. */
export const servedNote = (c: StoredCheckpoint): string => c.note + c.cosignatures.map((s) => s.line).join('');

export function createTransparencyLog(o: TransparencyLogOptions): TransparencyLog {
  const tree = createTreeStore(o.prisma);
  const origin = o.identity.signer.name;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<unknown> = Promise.resolve();
  let pushes: PushResult[] = [];
  let reportedGap: bigint | undefined;
  let seenSize = 0;
  const saw = (size: number) => (seenSize = Math.max(seenSize, size));

  const hashes = async (ranges: Range[]): Promise<Buffer[]> => {
    const plan = planRanges(ranges);
    const found = await tree.nodes(plan.nodes);
    return plan.assemble((id) => found.get(nodeKey(id)) as Buffer);
  };
  const rootAt = async (size: number) => (size === 0 ? EMPTY_ROOT : ((await hashes([rootRange(size)]))[0] as Buffer));
  const consistencyHashes = (from: number, to: number) => hashes(consistencyRanges(from, to));

  /**
   * Set by stop(): the background pass in progress ends after the batch it is on (each batch commits whole) instead
   * of integrating the rest of the trail first, so a shutdown during a long back-fill is not held for minutes.
   */
  let stopping = false;

  async function integrate(interrupted: () => boolean = () => false): Promise<{ size: number; gapAt?: bigint }> {
    const deadline = Date.now() + 4 * o.writeTimeoutMs;
    for (;;) {
      const step = await integrateBatch(o.store, tree, BATCH, Math.max(o.writeTimeoutMs, 10_000));
      if (interrupted()) {
        saw(step.size);
        return { size: step.size };
      }
      if (step.gapAt !== undefined && step.gapAt !== reportedGap) {
        reportedGap = step.gapAt;
        o.logger.error(
          { sequence: step.gapAt.toString() },
          'the audit trail skips an entry: the transparency log stops before it',
        );
      }
      if (step.busy && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25)); // another instance is integrating: wait for it
        continue;
      }
      if (step.busy || step.added < BATCH || step.gapAt !== undefined) {
        saw(step.size);
        return { size: step.size, ...(step.gapAt ? { gapAt: step.gapAt } : {}) };
      }
    }
  }

  const pushDeps = {
    logger: o.logger,
    timeoutMs: 5_000,
    lastCosigned: (w: string) => tree.lastCosigned(w),
    consistency: consistencyHashes,
    saveCosignature: (size: number, w: string, line: string) => tree.saveCosignature(size, w, line),
    refused: (w: string, reason: AlertReason, details: Record<string, unknown>) => o.onRefusal(w, reason, details),
  };

  async function signNow(background = false): Promise<StoredCheckpoint | undefined> {
    const { size } = await integrate(background ? () => stopping : undefined);
    if (background && stopping) return undefined; // stopping: the next start signs what this pass integrated
    const latest = await tree.latestCheckpoint();
    if (latest && latest.treeSize >= size) return latest;
    const root = await rootAt(size);
    const note = signNote(checkpointBody({ origin, size, root }), o.identity.signer);
    await tree.saveCheckpoint(size, root, note, {
      verifierKey: o.identity.signer.vkey,
      origin,
      publicKeyPem: o.identity.publicKeyPem,
    });
    const stored = (await tree.checkpointAt(size)) as StoredCheckpoint;
    pushes = await Promise.all(o.witnesses.map((w) => pushCheckpoint(pushDeps, w, size, stored.note)));
    return tree.checkpointAt(size);
  }

  async function tick(): Promise<void> {
    try {
      await signNow(true);
    } catch (err) {
      o.logger.warn(
        { err: (err as Error).message },
        'transparency log: integration or checkpoint failed; retried next interval',
      );
    }
  }

  /** The nodes and checkpoint a proof for a tree of `size` needs: a size beyond the tree is the caller's error. */
  async function proofRead(field: string, ids: NodeId[], size: number): Promise<ProofRead> {
    const read = await tree.proofRead(ids, size);
    saw(read.treeSize);
    if (size > read.treeSize) throw new LogRangeError(field, `The log holds ${read.treeSize} entries so far.`);
    const missing = ids.findIndex((_, i) => read.hashes[i] === undefined);
    if (missing >= 0) throw new TreeDamaged(`tree node ${nodeKey(ids[missing] as NodeId)} is missing`);
    return read;
  }

  return {
    origin,
    identity: o.identity,
    tree,
    integrate,
    signNow: () => signNow(),
    async latest() {
      const latest = await tree.latestCheckpoint();
      const stale = !latest || Date.now() - Date.parse(latest.signedAt) >= o.intervalS * 1000;
      return stale ? signNow() : latest;
    },
    async inclusion(sequence, treeSize) {
      const size = treeSize ?? (await tree.latestCheckpoint())?.treeSize ?? (await integrate()).size;
      if (sequence > size)
        throw new LogRangeError('sequence', `Entry ${sequence} is not in a tree of ${size} entries.`);
      // The leaf is a stored node too: it, its audit path, the tree size and the checkpoint in one read.
      const leafId = { level: 0, index: sequence - 1 };
      const plan = planRanges(inclusionRanges(sequence - 1, size));
      const read = await proofRead('tree_size', [leafId, ...plan.nodes], size);
      const [leaf, ...path] = read.hashes as Buffer[];
      const found = new Map(plan.nodes.map((id, i) => [nodeKey(id), path[i] as Buffer]));
      const proof = plan.assemble((id) => found.get(nodeKey(id)) as Buffer);
      return {
        proof: {
          sequence: String(sequence),
          leaf_index: sequence - 1,
          tree_size: size,
          leaf_hash: (leaf as Buffer).toString('base64'),
          proof: proof.map((h) => h.toString('base64')),
        },
        checkpoint: read.checkpoint,
      };
    },
    async consistency(from, to) {
      if (from > to) throw new LogRangeError('from', 'from must not exceed to.');
      const plan = planRanges(consistencyRanges(from, to));
      const read = await proofRead('to', plan.nodes, to);
      const found = new Map(plan.nodes.map((id, i) => [nodeKey(id), read.hashes[i] as Buffer]));
      const proof = plan.assemble((id) => found.get(nodeKey(id)) as Buffer).map((h) => h.toString('base64'));
      return { proof: { from, to, proof }, checkpoint: read.checkpoint };
    },
    async verify(full) {
      const { gapAt } = await integrate();
      if (gapAt !== undefined) {
        return {
          ok: false,
          entries: Number(gapAt) - 1,
          first_bad_sequence: gapAt.toString(),
          problem: 'missing',
          message: `Entry ${gapAt} is missing from the trail.`,
          mode: full ? 'full' : 'incremental',
        };
      }
      return verifyLog({ store: o.store, tree, keys: o.keys, rootAt, consistency: consistencyHashes }, full);
    },
    knownSize: () => seenSize,
    lastPush: () => pushes,
    start() {
      stopping = false;
      // A pass that outlasts the interval (the start-up back-fill of a large trail) is not queued behind.
      let running = false;
      const pass = () => {
        if (running) return;
        running = true;
        ticking = tick().finally(() => (running = false));
      };
      pass();
      timer = setInterval(pass, o.intervalS * 1000);
      timer.unref();
    },
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      await ticking;
    },
  };
}
