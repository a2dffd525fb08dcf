import { hashedContent, type StoredEntry } from '../trail/entry';
import { sameHash, type AuditKeys } from '../trail/keys';
import type { AuditStore } from '../trail/store';

/** Where the walk reads the chain: the store, or the read pool's byte-bounded pages (src/audit/review/reader.ts). */
export type ChainSource = Pick<AuditStore, 'readChain'>;

/** How long the walk may hold the event loop before it lets other requests run (issue 18, finding 2). */
const SLICE_MS = 5;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
import { readCheckpoint, type Checkpoint } from './json-checkpoint';

export type ChainProblem =
  'modified' | 'inserted' | 'missing' | 'unknown_key' | 'truncated' | 'checkpoint_mismatch' | 'bad_checkpoint';

export type Verification =
  | {
      ok: true;
      entries: number;
      last_sequence: string | null;
      last_hash: string | null;
      checkpoint?: { sequence: string; verified: true };
    }
  | { ok: false; entries: number; first_bad_sequence: string | null; problem: ChainProblem; message: string };

const PAGE = 1000;

/**
 * Walks the chain from the first entry, recomputing every hash. Reports the first broken sequence number
 * and whether an entry was modified (its content no longer hashes to its stored hash, but the next entry
 * chains from that hash), inserted (the next entry chains from the entry before it), or missing (a gap in
 * the sequence). With a checkpoint a reviewer kept, truncation of the newest entries is detected too.
 */
export async function verifyChain(
  store: ChainSource,
  keys: AuditKeys,
  checkpointToken?: string,
  observe?: (entry: StoredEntry) => void,
): Promise<Verification> {
  let checkpoint: Checkpoint | undefined;
  if (checkpointToken !== undefined) {
    checkpoint = readCheckpoint(keys, checkpointToken);
    if (!checkpoint)
      return {
        ok: false,
        entries: 0,
        first_bad_sequence: null,
        problem: 'bad_checkpoint',
        message: 'The checkpoint is malformed or its signature does not verify.',
      };
  }
  let previous: StoredEntry | undefined;
  let entries = 0;
  let checkpointSeen = checkpoint?.sequence === 0n;
  let slice = performance.now();
  for (let page = await store.readChain(0n, PAGE); page.length > 0; page = await store.readChain(previous!.seq, PAGE)) {
    for (const [i, entry] of page.entries()) {
      if (performance.now() - slice > SLICE_MS) {
        await nextTurn();
        slice = performance.now();
      }
      const expectedSeq = (previous?.seq ?? 0n) + 1n;
      if (entry.seq !== expectedSeq)
        return broken(entries, expectedSeq, 'missing', `Entries ${expectedSeq} to ${entry.seq - 1n} are missing.`);
      // Each entry is checked with the key that hashed it: the keyring keeps the keys a rotation replaced.
      const key = keys.withId(entry.keyId);
      if (!key)
        return broken(
          entries,
          entry.seq,
          'unknown_key',
          `Entry ${entry.seq} was hashed with key ${entry.keyId}, which is neither AUDIT_HMAC_KEY nor in AUDIT_HMAC_KEYS.`,
        );
      if (!sameHash(key.chainHash(previous?.hash ?? null, hashedContent(entry.seq, entry.keyId, entry)), entry.hash)) {
        const next = page[i + 1] ?? (await store.readChain(entry.seq, 1))[0];
        const inserted = next !== undefined && chainsFrom(keys, previous?.hash ?? null, next);
        return broken(
          entries,
          entry.seq,
          inserted ? 'inserted' : 'modified',
          inserted ? `Entry ${entry.seq} was inserted into the chain.` : `Entry ${entry.seq} was modified.`,
        );
      }
      if (checkpoint && entry.seq === checkpoint.sequence) {
        if (!sameHash(entry.hash, checkpoint.hash))
          return broken(entries, entry.seq, 'checkpoint_mismatch', `Entry ${entry.seq} differs from the checkpoint.`);
        checkpointSeen = true;
      }
      previous = entry;
      entries++;
      observe?.(entry);
    }
  }
  if (checkpoint && !checkpointSeen) {
    return broken(
      entries,
      (previous?.seq ?? 0n) + 1n,
      'truncated',
      `The chain ends at ${previous?.seq ?? 0n}, before the checkpoint's entry ${checkpoint.sequence}: newer entries were removed.`,
    );
  }
  return {
    ok: true,
    entries,
    last_sequence: previous ? previous.seq.toString() : null,
    last_hash: previous ? previous.hash.toString('hex') : null,
    ...(checkpoint ? { checkpoint: { sequence: checkpoint.sequence.toString(), verified: true as const } } : {}),
  };
}

function chainsFrom(keys: AuditKeys, previousHash: Buffer | null, entry: StoredEntry): boolean {
  const key = keys.withId(entry.keyId);
  if (!key) return false;
  return (
    sameHash(key.chainHash(previousHash, hashedContent(entry.seq - 1n, entry.keyId, entry)), entry.hash) ||
    sameHash(key.chainHash(previousHash, hashedContent(entry.seq, entry.keyId, entry)), entry.hash)
  );
}

function broken(entries: number, seq: bigint, problem: ChainProblem, message: string): Verification {
  return { ok: false, entries, first_bad_sequence: seq.toString(), problem, message };
}
