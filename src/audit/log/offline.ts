import { leafHashOf } from './leaf';
import { EMPTY_ROOT, nodeHash, verifyConsistency, verifyInclusion } from './merkle';
import {
  parseCheckpointBody,
  parseNote,
  signatureVerifies,
  verifyNote,
  type Checkpoint,
  type NoteVerifier,
} from './note';

/**
 * What `npm run audit:verify` checks (scripts/audit-verify.ts), with nothing but the log's public key, the
 * witnesses' keys, kept checkpoints, proofs and exported lines: no database, no gateway secret.
 */

export class VerifyFailure extends Error {}

export interface CheckpointPolicy {
  log: NoteVerifier;
  witnesses: NoteVerifier[];
  /** How many of `witnesses` must have cosigned. */
  minCosignatures: number;
}

export interface CheckedCheckpoint extends Checkpoint {
  cosignedBy: string[];
}

/** (a) The log's signature, the origin, and at least N cosignatures from the trusted witnesses. */
export function checkCheckpoint(note: string, policy: CheckpointPolicy): CheckedCheckpoint {
  let body: string;
  try {
    body = verifyNote(note, [policy.log]).body;
  } catch (err) {
    throw new VerifyFailure(`the checkpoint is not signed by the log key: ${(err as Error).message}`);
  }
  const checkpoint = parseCheckpointBody(body);
  if (checkpoint.origin !== policy.log.name)
    throw new VerifyFailure(
      `the checkpoint's origin ${checkpoint.origin} is not the log key's name ${policy.log.name}`,
    );
  const cosignedBy = new Set<string>();
  for (const sig of parseNote(note).signatures) {
    const witness = policy.witnesses.find((w) => w.name === sig.name && w.keyId.equals(sig.keyId));
    if (!witness) continue;
    if (!signatureVerifies(body, sig, witness))
      throw new VerifyFailure(`the cosignature of ${witness.name} does not verify`);
    cosignedBy.add(witness.name);
  }
  if (cosignedBy.size < policy.minCosignatures)
    throw new VerifyFailure(`${cosignedBy.size} trusted cosignature(s), ${policy.minCosignatures} required`);
  return { ...checkpoint, cosignedBy: [...cosignedBy] };
}

const hashes = (proof: string[]) => proof.map((h) => Buffer.from(h, 'base64'));

/** (b) An exported line (one entry) is leaf `seq − 1` of the checkpoint's tree. */
export function checkInclusion(checkpoint: Checkpoint, line: string, proof: string[]): { sequence: number } {
  const record = JSON.parse(line) as { seq?: unknown };
  const sequence = Number(record.seq);
  if (!Number.isSafeInteger(sequence) || sequence < 1)
    throw new VerifyFailure('the exported line has no sequence number');
  if (
    !verifyInclusion(
      sequence - 1,
      checkpoint.size,
      leafHashOf(record as Record<string, unknown>),
      hashes(proof),
      checkpoint.root,
    )
  ) {
    throw new VerifyFailure(`entry ${sequence} as exported is not in the tree of ${checkpoint.size} entries`);
  }
  return { sequence };
}

/**
 * (c) The tree of the old checkpoint is a prefix of the new one's: the log only grew. Across a rotation of the log's
 * signing key (`acrossRotation`: the verifier trusts the old checkpoint's key as this log's earlier key, as
 * `GET /v1/audit/public-key` lists it) the origin may have changed with the key; the trees must still extend.
 */
export function checkConsistency(old: Checkpoint, now: Checkpoint, proof: string[], acrossRotation = false): void {
  if (old.origin !== now.origin && !acrossRotation)
    throw new VerifyFailure('the two checkpoints are of different logs');
  if (old.size > now.size) throw new VerifyFailure(`the log shrank from ${old.size} to ${now.size} entries`);
  // The empty tree is a prefix of every tree (RFC 9162 proves nothing from size 0): its root is all there is to check.
  if (old.size === 0) {
    if (!old.root.equals(EMPTY_ROOT))
      throw new VerifyFailure("the kept checkpoint of 0 entries has a root other than the empty tree's");
    return;
  }
  if (!verifyConsistency(old.size, now.size, hashes(proof), old.root, now.root)) {
    throw new VerifyFailure(
      `the tree of ${now.size} entries does not extend the kept tree of ${old.size}: history was rewritten`,
    );
  }
}

/**
 * (d) Rebuilds the root from every exported line, in order, keeping only the right edge of the tree
 * (log2 n hashes: memory stays flat at millions of lines), and compares it with the checkpoint.
 */
export class RootBuilder {
  private readonly edge: { level: number; hash: Buffer }[] = [];
  size = 0;

  add(line: string): void {
    const record = JSON.parse(line) as Record<string, unknown>;
    if (record.seq !== String(this.size + 1))
      throw new VerifyFailure(
        `line ${this.size + 1} holds entry ${String(record.seq)}: entries are missing or out of order`,
      );
    let node = { level: 0, hash: leafHashOf(record) };
    while (this.edge.length > 0 && (this.edge.at(-1) as { level: number }).level === node.level) {
      const left = this.edge.pop() as { level: number; hash: Buffer };
      node = { level: node.level + 1, hash: nodeHash(left.hash, node.hash) };
    }
    this.edge.push(node);
    this.size++;
  }

  root(): Buffer {
    if (this.edge.length === 0) return EMPTY_ROOT;
    let acc = (this.edge.at(-1) as { hash: Buffer }).hash;
    for (let i = this.edge.length - 2; i >= 0; i--) acc = nodeHash((this.edge[i] as { hash: Buffer }).hash, acc);
    return acc;
  }
}

export function checkRebuilt(checkpoint: Checkpoint, builder: RootBuilder): void {
  if (builder.size !== checkpoint.size)
    throw new VerifyFailure(`the export holds ${builder.size} entries, the checkpoint ${checkpoint.size}`);
  if (!builder.root().equals(checkpoint.root))
    throw new VerifyFailure('the root rebuilt from the export differs from the checkpoint');
}
