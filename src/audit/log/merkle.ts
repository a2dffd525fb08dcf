import { createHash } from 'node:crypto';

/**
 * RFC 6962 §2.1 (RFC 9162 §2.1) Merkle trees: hashing, which stored subtrees a proof needs, and the
 * verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2. Pure: no database, no configuration, so the
 * offline verifier (scripts/audit-verify.ts) uses exactly this file.
 *
 * Sizes and indexes are JavaScript numbers (exact to 2^53); no 32-bit bit operators anywhere.
 */

export const HASH_SIZE = 32;
export const EMPTY_ROOT = createHash('sha256').digest();

export function leafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(0)).update(leaf).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** A stored complete subtree: level L, index i covers leaves [i·2^L, (i+1)·2^L). */
export interface NodeId {
  level: number;
  index: number;
}

/** A contiguous range of leaves [start, end) whose hash a proof carries. */
export interface Range {
  start: number;
  end: number;
}

/** Largest power of two strictly below n (n ≥ 2): RFC 6962's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The audit path of leaf `index` in a tree of `size` leaves, leaf level first (RFC 6962 §2.1.1 PATH). */
export function inclusionRanges(index: number, size: number): Range[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const ranges: Range[] = [];
  let start = 0;
  let end = size;
  const stack: Range[] = [];
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      stack.push({ start: start + k, end });
      end = start + k;
    } else {
      stack.push({ start, end: start + k });
      start += k;
    }
  }
  while (stack.length > 0) ranges.push(stack.pop() as Range);
  return ranges;
}

/** The ranges of a consistency proof from size m to size n (RFC 6962 §2.1.2 SUBPROOF), in proof order. */
export function consistencyRanges(m: number, n: number): Range[] {
  if (!(m >= 0 && m <= n)) throw new RangeError(`cannot prove ${m} consistent with ${n}`);
  if (m === 0 || m === n) return [];
  const out: Range[] = [];
  const subproof = (mm: number, start: number, end: number, whole: boolean) => {
    const n2 = end - start;
    if (mm === n2) {
      if (!whole) out.push({ start, end });
      return;
    }
    const k = splitPoint(n2);
    if (mm <= k) {
      subproof(mm, start, start + k, whole);
      out.push({ start: start + k, end });
    } else {
      subproof(mm - k, start + k, end, false);
      out.push({ start, end: start + k });
    }
  };
  subproof(m, 0, n, true);
  return out;
}

/**
 * The stored complete subtrees whose hashes give the hash of `range`, largest first. Every range a proof
 * needs starts at a multiple of a power of two at least its size, so they are at most log2 of it.
 */
export function rangeNodes({ start, end }: Range): NodeId[] {
  const nodes: NodeId[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    let level = 0;
    while (at % (size * 2) === 0 && at + size * 2 <= end) {
      size *= 2;
      level++;
    }
    nodes.push({ level, index: at / size });
    at += size;
  }
  return nodes;
}

/** The hash of a range from its complete subtrees' hashes (largest first): RFC 6962's right-leaning split. */
export function foldRange(hashes: Buffer[]): Buffer {
  let acc = hashes[hashes.length - 1] as Buffer;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i] as Buffer, acc);
  return acc;
}

/** The root of a tree of `size` leaves, from its complete subtrees. */
export const rootRange = (size: number): Range => ({ start: 0, end: size });

/** MTH over leaf hashes, by the definition: the naive reference the stored tree is tested against. */
export function naiveRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0] as Buffer;
  const k = splitPoint(leaves.length);
  return nodeHash(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
const isHash = (h: Uint8Array) => h.length === HASH_SIZE;
const odd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: whether `proof` shows leaf `index` with `leaf` hash is in the tree of `size` with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!(index >= 0 && index < size) || ![leaf, root, ...proof].every(isHash)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(r, root);
}

/** RFC 9162 §2.1.4.2: whether `proof` shows the tree (size1, root1) is a prefix of (size2, root2). */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  // A proof from the empty tree proves nothing: the reference vectors refuse it (the witness handles `old 0` itself).
  if (!(size1 > 0 && size1 <= size2)) return false;
  if (size1 === size2) return proof.length === 0 && same(root1, root2);
  if (![root1, root2, ...proof].every(isHash)) return false;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = path[0] as Uint8Array;
  let sr: Uint8Array = path[0] as Uint8Array;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(fr, root1) && same(sr, root2);
}

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

export const nodeKey = ({ level, index }: NodeId): string => `${level}/${index}`;

/** The stored nodes a list of ranges needs (deduplicated), and how to turn their hashes into the ranges' hashes. */
export function planRanges(ranges: Range[]): { nodes: NodeId[]; assemble(hashOf: (id: NodeId) => Buffer): Buffer[] } {
  const perRange = ranges.map(rangeNodes);
  const nodes = [...new Map(perRange.flat().map((id) => [nodeKey(id), id])).values()];
  return { nodes, assemble: (hashOf) => perRange.map((ids) => foldRange(ids.map(hashOf))) };
}

/** Every complete subtree a tree of leaf hashes has, as the tree store keeps them (for tests and the rebuild). */
export function completeNodes(leaves: Buffer[]): Map<string, Buffer> {
  const nodes = new Map<string, Buffer>();
  let level = leaves;
  for (let l = 0; level.length > 0; l++) {
    level.forEach((h, i) => nodes.set(nodeKey({ level: l, index: i }), h));
    const up: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(nodeHash(level[i] as Buffer, level[i + 1] as Buffer));
    level = up;
  }
  return nodes;
}
