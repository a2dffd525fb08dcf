import { allEntries, tamperWithLog } from '../../helpers/audit';
import { asSuperuser, BACKENDS } from '../../helpers/database';
import { startHarness, type Harness } from '../../helpers/harness';
import { tokenFor } from '../../helpers/tokens';
import { LogRangeError } from '../../../src/audit/log/log';
import { naiveRoot, verifyConsistency, verifyInclusion } from '../../../src/audit/log/merkle';
import { TreeDamaged } from '../../../src/audit/log/tree-store';

// Five levels, complete and ragged subtrees on both sides; the proof algorithms themselves are checked against a naive
// recomputation for every size up to 300 in merkle.test.ts: this is the one-statement read of the stored nodes.
const ENTRIES = 21;
const b64 = (xs: string[]) => xs.map((x) => Buffer.from(x, 'base64'));

/**
 * The proof path reads a proof's nodes, the tree size and the checkpoint in one statement (TreeStore.proofRead):
 * every inclusion and consistency proof of every tree size up to 21, from the stored tree, verified against the
 * root recomputed from the leaves, on each database the gateway runs on.
 */
describe.each(BACKENDS)('proofs read in one round trip (%s)', (backend) => {
  let h: Harness;
  let leaves: Buffer[];

  beforeAll(async () => {
    h = await startHarness({ backend, unowned: true, env: { AUDIT_CHECKPOINT_INTERVAL_S: '3600' } });
    await h.deps.audit.log.stop();
    const log = h.deps.audit.log;
    const base = (await log.integrate()).size;
    for (let i = base; i < ENTRIES; i++) await h.deps.audit.recorder.recordSystem('test.proof_read', { i });
    expect((await log.integrate()).size).toBe(ENTRIES);
    leaves = await log.tree.leaves(0, ENTRIES);
  }, 60_000);
  afterAll(async () => h.close());

  test('when every inclusion and consistency proof up to the tree size is asked for, then each verifies against the recomputed root', async () => {
    const log = h.deps.audit.log;
    for (let n = 1; n <= ENTRIES; n++) {
      const root = naiveRoot(leaves.slice(0, n));
      for (let seq = 1; seq <= n; seq++) {
        const { proof } = await log.inclusion(seq, n);
        expect(proof).toMatchObject({
          sequence: String(seq),
          leaf_index: seq - 1,
          tree_size: n,
          leaf_hash: (leaves[seq - 1] as Buffer).toString('base64'),
        });
        expect(verifyInclusion(seq - 1, n, leaves[seq - 1] as Buffer, b64(proof.proof), root)).toBe(true);
      }
      for (let m = 1; m <= n; m++) {
        const { proof } = await log.consistency(m, n);
        expect(verifyConsistency(m, n, b64(proof.proof), naiveRoot(leaves.slice(0, m)), root)).toBe(true);
      }
    }
  }, 120_000);

  test('when a proof is for a signed tree size, then the same read returns that checkpoint; for an unsigned size, none', async () => {
    const log = h.deps.audit.log;
    const signed = (await log.signNow())!;
    expect(signed.treeSize).toBe(ENTRIES);
    const inclusion = await log.inclusion(5, ENTRIES);
    expect(inclusion.checkpoint).toEqual(await log.tree.checkpointAt(ENTRIES));
    expect(inclusion.checkpoint?.root.equals(naiveRoot(leaves))).toBe(true);
    expect((await log.consistency(3, ENTRIES)).checkpoint).toEqual(signed);
    expect((await log.inclusion(5, ENTRIES - 1)).checkpoint).toBeUndefined();
    // Without a tree size: the latest checkpoint's.
    expect((await log.inclusion(5)).proof.tree_size).toBe(ENTRIES);
  });

  test("when a proof is for a tree larger than the log, then it is the caller's range error; when a node is gone, the tree is damaged", async () => {
    const log = h.deps.audit.log;
    await expect(log.inclusion(1, ENTRIES + 1)).rejects.toEqual(expect.objectContaining({ field: 'tree_size' }));
    await expect(log.inclusion(ENTRIES + 1, ENTRIES)).rejects.toEqual(expect.objectContaining({ field: 'sequence' }));
    await expect(log.consistency(2, ENTRIES + 5)).rejects.toBeInstanceOf(LogRangeError);
    if (backend !== 'postgres') return; // the embedded database is one process's: no superuser next to it
    await asSuperuser(h.database, async (c) => {
      await c.query('ALTER TABLE audit_tree_node DISABLE TRIGGER USER');
      await c.query('DELETE FROM audit_tree_node WHERE level = 0 AND idx = 6');
      await c.query('ALTER TABLE audit_tree_node ENABLE TRIGGER USER');
    });
    await expect(log.inclusion(7, ENTRIES)).rejects.toBeInstanceOf(TreeDamaged);
    await expect(log.consistency(8, ENTRIES)).resolves.toBeDefined(); // its proof does not need that leaf
  });

  test('when a proof is asked over HTTP, then its access entry is committed before the answer; when the tree was rebuilt smaller underneath, the refusal is recorded too', async () => {
    const auditor = tokenFor('auditor', 'aud');
    const get = (path: string) => h.api().get(path).set('Authorization', `Bearer ${auditor}`);
    const accessOf = async (operation: string) =>
      (await allEntries(h)).filter((e) => e.kind === 'access' && e.operation === operation);
    expect(h.deps.audit.log.knownSize()).toBe(ENTRIES);
    await get(`/v1/audit/proof/inclusion?sequence=3&tree_size=${ENTRIES}`).expect(200);
    expect((await accessOf('audit.proof_inclusion')).at(-1)).toMatchObject({
      outcome: 'success',
      details: expect.objectContaining({ sequence: '3', tree_size: ENTRIES }),
    });
    await get(`/v1/audit/proof/consistency?from=8&to=${ENTRIES}`).expect(200);
    expect((await accessOf('audit.proof_consistency')).at(-1)).toMatchObject({
      outcome: 'success',
      details: expect.objectContaining({ from: 8, to: ENTRIES }),
    });

    // Beyond what this instance has seen: checked first, refused, recorded once as refused.
    // Filed under the action refused (issue 23: one recorder, the catalogue's names).
    const refused = async () => (await accessOf('audit.proof_inclusion')).filter((e) => e.errorCode !== null);
    const refusedBefore = (await refused()).length;
    await get(`/v1/audit/proof/inclusion?sequence=3&tree_size=${ENTRIES + 100}`).expect(400);
    expect(await refused()).toHaveLength(refusedBefore + 1);

    // A tree made smaller underneath the gateway (a superuser's doing): the proof is refused by the read itself.
    await tamperWithLog(h, 'UPDATE audit_log_state SET tree_size = 5');
    const res = await get(`/v1/audit/proof/inclusion?sequence=3&tree_size=${ENTRIES}`).expect(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'tree_size', code: 'out_of_range' })]);
    expect((await refused()).at(-1)).toMatchObject({ errorCode: 'validation_failed' });
    expect(await refused()).toHaveLength(refusedBefore + 2);
  });
});
