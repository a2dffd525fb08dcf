import type { StoredEntry } from '../trail/entry';
import type { AuditStore } from '../trail/store';
import { entryLeafHash } from './leaf';
import { nodeHash, nodeKey, rangeNodes } from './merkle';
import type { TreeStore } from './tree-store';

export interface Integration {
  size: number;
  added: number;
  /** The sequence number the trail skips (an entry missing underneath the gateway): integration stops before it. */
  gapAt?: bigint;
  /** Another instance held the tree lock: it is integrating these entries. */
  busy?: true;
}

interface Node {
  level: number;
  index: number;
  hash: Buffer;
}

/**
 * Adds up to `batch` entries after the tree's size to the tree, in one transaction under the tree lock:
 * their leaf hashes and every subtree they complete. Memory is bounded by the batch; the right edge of the
 * tree (at most log2(n) nodes) is all it reads of what is stored. Integration is separate from the append
 * (the entry is committed first, the tree follows within AUDIT_CHECKPOINT_INTERVAL_S), so an append costs
 * what it cost before; nothing is committed to anyone until a checkpoint is signed over it.
 */
export async function integrateBatch(
  store: AuditStore,
  tree: TreeStore,
  batch: number,
  timeoutMs: number,
): Promise<Integration> {
  // Entries never change, so they are read before the transaction (the embedded database has one connection:
  // a read beside an open transaction would wait for it); under the lock the size they follow is checked again.
  const { treeSize } = await tree.state();
  const entries = await store.readChain(BigInt(treeSize), batch);
  const dense = entries.filter((e, i) => e.seq === BigInt(treeSize + i + 1));
  const gapAt = dense.length < entries.length ? BigInt(treeSize + dense.length + 1) : undefined;
  if (dense.length === 0) return { size: treeSize, added: 0, ...(gapAt ? { gapAt } : {}) };
  const leaves: Buffer[] = [];
  for (let i = 0; i < dense.length; i++) {
    leaves.push(entryLeafHash(dense[i] as StoredEntry));
    // Hashing a batch is ~20 µs an entry: give the event loop back every 64, so requests in flight never wait a batch out.
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  const result = await tree.exclusively(async (tx): Promise<Integration> => {
    const current = (await tree.state(tx)).treeSize;
    if (current !== treeSize) return { size: current, added: 0, busy: true }; // another instance integrated them first
    const edgeIds = rangeNodes({ start: 0, end: treeSize });
    const edgeHashes = await tree.nodes(edgeIds, tx);
    const stack: Node[] = edgeIds.map((id) => ({ ...id, hash: edgeHashes.get(nodeKey(id)) as Buffer }));
    const added: Node[] = [];
    leaves.forEach((hash, i) => {
      let node: Node = { level: 0, index: treeSize + i, hash };
      added.push(node);
      // The right edge is a binary counter: a new leaf completes every subtree whose left half is on top.
      while (stack.length > 0 && (stack.at(-1) as Node).level === node.level) {
        const left = stack.pop() as Node;
        node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
        added.push(node);
      }
      stack.push(node);
    });
    const size = treeSize + leaves.length;
    await tree.appendNodes(tx, added, size);
    return { size, added: leaves.length, ...(gapAt ? { gapAt } : {}) };
  }, timeoutMs);
  return result ?? { size: treeSize, added: 0, busy: true };
}
