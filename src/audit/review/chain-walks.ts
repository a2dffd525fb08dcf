import type { StoredEntry } from '../trail/entry';
import { sameHash, type AuditKeys } from '../trail/keys';
import { readCheckpoint, type Checkpoint } from './json-checkpoint';
import { verifyChain, type ChainSource, type Verification } from './chain-verify';

/**
 * At most one walk of the chain per instance (issue 18, finding 2: eight concurrent walks, one per spelling of a
 * checkpoint, slowed every other request to a second or more, and two walks of a poisoned trail ran the process
 * out of memory). A verification asked for while a walk runs joins it: without a checkpoint always, with one if
 * the walk has not passed the checkpoint's entry yet. Otherwise it is refused as busy, with a time to retry.
 */
export interface VerifyWalks {
  verify(checkpointToken?: string): Promise<Verification> | { busy: true; retryAfterS: number };
  /** The walk in progress, if any: how far it has got (for tests and the busy answer). */
  current(): { startedAt: number; reachedSeq: bigint; joined: number } | undefined;
  /** Walks started since this instance began. */
  started(): number;
}

interface Joiner {
  checkpoint?: Checkpoint;
}

interface Walk {
  startedAt: number;
  reached: bigint;
  joined: Joiner[];
  /** Joiners' checkpoint sequences, added before the walk reaches them, and the hashes seen there. */
  watched: Set<bigint>;
  seen: Map<bigint, Buffer>;
  result: Promise<Verification>;
}

export function createVerifyWalks(source: ChainSource, keys: AuditKeys): VerifyWalks {
  let walk: Walk | undefined;
  let walks = 0;

  function start(): Walk {
    const w = { startedAt: Date.now(), reached: 0n, joined: [], watched: new Set(), seen: new Map() } as Omit<
      Walk,
      'result'
    > as Walk;
    w.result = verifyChain(source, keys, undefined, (entry: StoredEntry) => {
      w.reached = entry.seq;
      if (w.watched.size > 0 && w.watched.has(entry.seq)) w.seen.set(entry.seq, entry.hash);
    }).finally(() => {
      if (walk === w) walk = undefined;
    });
    walks++;
    return w;
  }

  return {
    verify(checkpointToken) {
      let checkpoint: Checkpoint | undefined;
      if (checkpointToken !== undefined) {
        checkpoint = readCheckpoint(keys, checkpointToken);
        if (!checkpoint)
          return Promise.resolve({
            ok: false,
            entries: 0,
            first_bad_sequence: null,
            problem: 'bad_checkpoint',
            message: 'The checkpoint is malformed or its signature does not verify.',
          } as const);
      }
      if (walk && checkpoint && checkpoint.sequence !== 0n && checkpoint.sequence <= walk.reached) {
        // Seen already by this walk: a new one is needed, and only one runs at a time.
        return { busy: true, retryAfterS: retryAfter(walk) };
      }
      const w = walk ?? (walk = start());
      const joiner: Joiner = { checkpoint };
      w.joined.push(joiner);
      if (checkpoint) w.watched.add(checkpoint.sequence);
      return w.result.then((chain) => withCheckpoint(chain, checkpoint, w.seen));
    },
    current: () =>
      walk ? { startedAt: walk.startedAt, reachedSeq: walk.reached, joined: walk.joined.length } : undefined,
    started: () => walks,
  };
}

/** Seconds until the walk in progress is likely done, from its pace so far (at least 1, at most 60). */
function retryAfter(w: Walk): number {
  const elapsedS = (Date.now() - w.startedAt) / 1000;
  return Math.min(60, Math.max(1, Math.ceil(elapsedS)));
}

/**
 * One joiner's answer from the shared walk: what verifyChain answers with this checkpoint. The chain's own problem
 * stands if it comes first; a checkpoint entry whose hash differs, or one past the end, is the joiner's problem.
 */
function withCheckpoint(
  chain: Verification,
  checkpoint: Checkpoint | undefined,
  seen: Map<bigint, Buffer>,
): Verification {
  if (!checkpoint) return chain;
  const seq = checkpoint.sequence;
  const firstBad = chain.ok
    ? undefined
    : chain.first_bad_sequence === null
      ? undefined
      : BigInt(chain.first_bad_sequence);
  if (seq !== 0n && (firstBad === undefined || seq < firstBad)) {
    const hash = seen.get(seq);
    if (hash && !sameHash(hash, checkpoint.hash)) {
      return {
        ok: false,
        entries: Number(seq - 1n),
        first_bad_sequence: seq.toString(),
        problem: 'checkpoint_mismatch',
        message: `Entry ${seq} differs from the checkpoint.`,
      };
    }
    if (!hash && chain.ok) {
      const last = chain.last_sequence === null ? 0n : BigInt(chain.last_sequence);
      return {
        ok: false,
        entries: chain.entries,
        first_bad_sequence: (last + 1n).toString(),
        problem: 'truncated',
        message: `The chain ends at ${last}, before the checkpoint's entry ${seq}: newer entries were removed.`,
      };
    }
  }
  return chain.ok ? { ...chain, checkpoint: { sequence: seq.toString(), verified: true } } : chain;
}
