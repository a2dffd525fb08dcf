import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  completeNodes,
  consistencyRanges,
  EMPTY_ROOT,
  inclusionRanges,
  leafHash,
  naiveRoot,
  nodeHash,
  nodeKey,
  planRanges,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
} from '../../../src/audit/log/merkle';
import rfc6962 from './vectors/rfc6962.json';
import inclusion from './vectors/inclusion.json';
import consistency from './vectors/consistency.json';

const hex = (s: string) => Buffer.from(s, 'hex');
const b64 = (s: string | null | undefined) => Buffer.from(s ?? '', 'base64');

describe('RFC 6962 hashing, against the reference vectors', () => {
  test.each(rfc6962.hashes)('$desc', (v) => {
    const got =
      'emptyRoot' in v
        ? EMPTY_ROOT
        : 'leafHex' in v
          ? leafHash(hex(v.leafHex as string))
          : nodeHash(hex(v.leftHex as string), hex(v.rightHex as string));
    expect(got.toString('hex')).toBe(v.want);
  });

  test('when the reference tree grows leaf by leaf, then every root and every complete subtree matches', () => {
    const leaves = rfc6962.leafInputs.map((l) => leafHash(hex(l)));
    rfc6962.rootHashes.forEach((root, size) => expect(naiveRoot(leaves.slice(0, size)).toString('hex')).toBe(root));
    const nodes = completeNodes(leaves);
    rfc6962.nodeHashes.forEach((level, l) =>
      level.forEach((h, i) => expect(nodes.get(nodeKey({ level: l, index: i }))?.toString('hex')).toBe(h)),
    );
  });
});

describe('proof verification, against transparency-dev/merkle testdata', () => {
  test.each(inclusion.cases.map((c) => [c.file, c] as const))('inclusion %s', (_file, c) => {
    const ok = verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), (c.proof ?? []).map(b64), b64(c.root));
    expect(ok).toBe(!c.wantErr);
  });

  test.each(consistency.cases.map((c) => [c.file, c] as const))('consistency %s', (_file, c) => {
    const ok = verifyConsistency(c.size1, c.size2, (c.proof ?? []).map(b64), b64(c.root1), b64(c.root2));
    expect(ok).toBe(!c.wantErr);
  });
});

/** RFC 6962 §2.1.1 and §2.1.2 written out over leaf lists, memoised: the naive reference for the stored tree. */
function naive(leaves: Buffer[]) {
  const memo = new Map<string, Buffer>();
  const mth = (start: number, end: number): Buffer => {
    const key = `${start}:${end}`;
    let h = memo.get(key);
    if (!h) {
      h =
        end - start === 1
          ? (leaves[start] as Buffer)
          : nodeHash(mth(start, start + splitPoint(end - start)), mth(start + splitPoint(end - start), end));
      memo.set(key, h);
    }
    return h;
  };
  const path = (m: number, start: number, end: number): Buffer[] => {
    if (end - start <= 1) return [];
    const k = splitPoint(end - start);
    return m < k
      ? [...path(m, start, start + k), mth(start + k, end)]
      : [...path(m - k, start + k, end), mth(start, start + k)];
  };
  const subproof = (m: number, start: number, end: number, whole: boolean): Buffer[] => {
    if (m === end - start) return whole ? [] : [mth(start, end)];
    const k = splitPoint(end - start);
    return m <= k
      ? [...subproof(m, start, start + k, whole), mth(start + k, end)]
      : [...subproof(m - k, start + k, end, false), mth(start, start + k)];
  };
  return {
    root: (n: number) => mth(0, n),
    path: (i: number, n: number) => path(i, 0, n),
    consistency: (m: number, n: number) => subproof(m, 0, n, true),
  };
}

/**
 * Exhaustive over every tree of up to 64 leaves (every shape of a small tree: full, one past full, each split), then
 * properties over random leaves and sizes of up to 1,100, with powers of two and their neighbours weighted in.
 */
describe('proofs from stored subtrees, against a naive recomputation', () => {
  const MAX = 1100;
  const SMALL = 64;
  const leaves = Array.from({ length: MAX }, (_, i) => leafHash(createHash('sha256').update(`entry ${i}`).digest()));
  const stored = completeNodes(leaves);
  const hashOf = (id: NodeId) => stored.get(nodeKey(id)) as Buffer;
  const ref = naive(leaves);
  const bound = (n: number) => Math.ceil(Math.log2(n)) + 1;
  const rootOf = (n: number) => planRanges([{ start: 0, end: n }]).assemble(hashOf)[0] as Buffer;

  // Mismatches are collected and compared once: jest's deep equality over thousands of Buffers is slow.
  const hexes = (hs: Buffer[]) => hs.map((h) => h.toString('hex')).join(',');

  /** What is wrong with the inclusion proof of leaf i in the tree of n leaves (empty: nothing). */
  function inclusionProblems(i: number, n: number): string[] {
    const wrong: string[] = [];
    const root = rootOf(n);
    const proof = planRanges(inclusionRanges(i, n)).assemble(hashOf);
    if (hexes(proof) !== hexes(ref.path(i, n))) wrong.push(`path ${i} of ${n}`);
    if (proof.length > bound(n)) wrong.push(`long path ${i} of ${n}`);
    if (!verifyInclusion(i, n, leaves[i] as Buffer, proof, root)) wrong.push(`refused ${i} of ${n}`);
    if (n > 1 && verifyInclusion(i, n, leaves[(i + 1) % n] as Buffer, proof, root))
      wrong.push(`accepted another leaf at ${i} of ${n}`);
    return wrong;
  }

  /** What is wrong with the consistency proof from the tree of m leaves to the tree of n. */
  function consistencyProblems(m: number, n: number): string[] {
    const wrong: string[] = [];
    const proof = planRanges(consistencyRanges(m, n)).assemble(hashOf);
    if (hexes(proof) !== hexes(ref.consistency(m, n))) wrong.push(`proof ${m} to ${n}`);
    if (proof.length > bound(n)) wrong.push(`long proof ${m} to ${n}`);
    if (!verifyConsistency(m, n, proof, ref.root(m), ref.root(n))) wrong.push(`refused ${m} to ${n}`);
    if (m < n && verifyConsistency(m, n, proof, ref.root(m), nodeHash(ref.root(n), ref.root(m))))
      wrong.push(`accepted a wrong root ${m} to ${n}`);
    if (m < n && m > 1 && verifyConsistency(m, n, proof, ref.root(m - 1), ref.root(n)))
      wrong.push(`accepted a wrong old root ${m} to ${n}`);
    return wrong;
  }

  test('when every leaf of every tree of up to 64 leaves is proven, then each proof equals the naive one, is short and verifies', () => {
    const wrong: string[] = [];
    for (let n = 1; n <= SMALL; n++) {
      if (!rootOf(n).equals(ref.root(n)) || !rootOf(n).equals(naiveRoot(leaves.slice(0, n)))) wrong.push(`root ${n}`);
      for (let i = 0; i < n; i++) wrong.push(...inclusionProblems(i, n));
    }
    expect(wrong).toEqual([]);
  });

  test('when every pair of trees of up to 64 leaves is proven consistent, then each proof equals the naive one, is short and verifies', () => {
    const wrong: string[] = [];
    for (let n = 1; n <= SMALL; n++) for (let m = 1; m <= n; m++) wrong.push(...consistencyProblems(m, n));
    expect(wrong).toEqual([]);
  });

  // Sizes near powers of two are where the tree's shape changes: drawn as often as any other size.
  const edgy = fc.oneof(
    fc.integer({ min: 1, max: MAX }),
    fc
      .tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: -1, max: 1 }))
      .map(([p, d]) => Math.min(MAX, Math.max(1, 2 ** p + d))),
  );

  test('for any leaf of any larger tree, the proof equals the naive one, is short and verifies', () => {
    fc.assert(
      fc.property(
        edgy.chain((n) => fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constant(n))),
        ([i, n]) => expect(inclusionProblems(i, n)).toEqual([]),
      ),
      { numRuns: 400 },
    );
    expect(rootOf(MAX).equals(naiveRoot(leaves))).toBe(true);
  });

  test('for any two larger trees, the consistency proof equals the naive one, is short and verifies', () => {
    fc.assert(
      fc.property(
        edgy.chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))),
        ([m, n]) => expect(consistencyProblems(m, n)).toEqual([]),
      ),
      { numRuns: 400 },
    );
  });

  test('when a proof needs stored nodes, then it reads at most 2·log2(n) of them', () => {
    for (const n of [1, 2, 3, 7, 8, 255, 256, 257, 300, 1024, 1025, MAX]) {
      for (let i = 0; i < n; i += 17)
        expect(planRanges(inclusionRanges(i, n)).nodes.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)) + 1);
    }
  });
});
