import { hashedContent, type StoredEntry } from '../trail/entry';
import { sameHash, type AuditKeys } from '../trail/keys';
import type { AuditStore } from '../trail/store';
import type { ChainProblem, Verification } from '../review/chain-verify';
import { entryLeafHash } from './leaf';
import { verifyConsistency } from './merkle';
import type { TreeStore } from './tree-store';

const PAGE = 2000;

export interface LogCheck {
  store: AuditStore;
  tree: TreeStore;
  keys: AuditKeys;
  rootAt(size: number): Promise<Buffer>;
  consistency(from: number, to: number): Promise<Buffer[]>;
}

export type LogVerification = Verification & {
  mode: 'incremental' | 'full';
  checked?: number;
  tree_size?: number;
  root?: string;
};

/**
 * Verifies the entries the tree took in since the last verification (all of them when `full`): each one's
 * HMAC link and its leaf hash against the stored tree, then that the stored tree still extends the root
 * verified last time (an RFC 6962 consistency proof) and the newest signed checkpoint. Entries verified
 * before are not re-read: a rewrite of those is what `full`, the offline verifier and witnesses catch.
 */
export async function verifyLog(c: LogCheck, full: boolean): Promise<LogVerification> {
  const state = await c.tree.state();
  const size = state.treeSize;
  const from = full || state.verifiedSize > size ? 0 : state.verifiedSize;
  const mode = full ? 'full' : 'incremental';
  const bad = (
    entries: number,
    seq: bigint | number | null,
    problem: ChainProblem,
    message: string,
  ): LogVerification => ({
    ok: false,
    entries,
    first_bad_sequence: seq === null ? null : String(seq),
    problem,
    message,
    mode,
  });

  const root = await c.rootAt(size);
  if (
    from > 0 &&
    state.verifiedRoot &&
    !verifyConsistency(from, size, await c.consistency(from, size), state.verifiedRoot, root)
  ) {
    return bad(
      from,
      null,
      'checkpoint_mismatch',
      `The stored tree no longer extends the tree of ${from} entries verified before: it was rewritten.`,
    );
  }
  const latest = await c.tree.latestCheckpoint();
  if (latest && latest.treeSize > size)
    return bad(
      size,
      size + 1,
      'truncated',
      `The tree holds ${size} entries, fewer than the ${latest.treeSize} of a signed checkpoint.`,
    );
  if (latest && !sameHash(await c.rootAt(latest.treeSize), latest.root)) {
    return bad(
      size,
      null,
      'checkpoint_mismatch',
      `The stored tree differs from the signed checkpoint of ${latest.treeSize} entries.`,
    );
  }

  let previous: StoredEntry | undefined = from > 0 ? (await c.store.readChain(BigInt(from - 1), 1))[0] : undefined;
  if (from > 0 && (!previous || previous.seq !== BigInt(from)))
    return bad(from - 1, from, 'truncated', `Entry ${from}, the newest verified before, is gone.`);
  if (from > 0 && state.verifiedHash && !sameHash((previous as StoredEntry).hash, state.verifiedHash))
    return bad(from - 1, from, 'modified', `Entry ${from}, the newest verified before, was changed.`);
  for (let at = from; at < size;) {
    const count = Math.min(PAGE, size - at);
    const [entries, leaves] = await Promise.all([c.store.readChain(BigInt(at), count), c.tree.leaves(at, at + count)]);
    for (let i = 0; i < count; i++) {
      const seq = BigInt(at + i + 1);
      const entry = entries[i];
      if (!entry)
        return bad(
          at + i,
          seq,
          'truncated',
          `The trail ends at ${seq - 1n}, but the tree holds ${size} entries: newer entries were removed.`,
        );
      if (entry.seq !== seq) return bad(at + i, seq, 'missing', `Entries ${seq} to ${entry.seq - 1n} are missing.`);
      // Each entry is checked with the key that hashed it: the keyring keeps the keys a rotation replaced (issue 13).
      const key = c.keys.withId(entry.keyId);
      if (!key)
        return bad(
          at + i,
          seq,
          'unknown_key',
          `Entry ${seq} was hashed with key ${entry.keyId}, which is neither AUDIT_HMAC_KEY nor in AUDIT_HMAC_KEYS.`,
        );
      if (!sameHash(key.chainHash(previous?.hash ?? null, hashedContent(entry.seq, entry.keyId, entry)), entry.hash)) {
        const next = entries[i + 1] ?? (await c.store.readChain(entry.seq, 1))[0];
        const inserted = next !== undefined && chainsFrom(c.keys, previous?.hash ?? null, next);
        return bad(
          at + i,
          seq,
          inserted ? 'inserted' : 'modified',
          inserted ? `Entry ${seq} was inserted into the chain.` : `Entry ${seq} was modified.`,
        );
      }
      if (!sameHash(entryLeafHash(entry), leaves[i] as Buffer))
        return bad(at + i, seq, 'modified', `Entry ${seq} differs from the leaf the log committed to.`);
      previous = entry;
    }
    at += count;
  }
  await c.tree.setVerified(size, root, previous?.hash ?? null);
  return {
    ok: true,
    entries: size,
    last_sequence: previous ? previous.seq.toString() : null,
    last_hash: previous ? previous.hash.toString('hex') : null,
    mode,
    checked: size - from,
    tree_size: size,
    root: root.toString('base64'),
  };
}

function chainsFrom(keys: AuditKeys, previousHash: Buffer | null, entry: StoredEntry): boolean {
  const key = keys.withId(entry.keyId);
  return (
    key !== undefined &&
    sameHash(key.chainHash(previousHash, hashedContent(entry.seq - 1n, entry.keyId, entry)), entry.hash)
  );
}
