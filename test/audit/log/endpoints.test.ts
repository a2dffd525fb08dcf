import { startHarness, type Harness } from '../../helpers/harness';
import { tokenFor } from '../../helpers/tokens';
import { allEntries } from '../../helpers/audit';
import { parseVkey, verifyNote, parseCheckpointBody } from '../../../src/audit/log/note';
import { verifyConsistency, verifyInclusion } from '../../../src/audit/log/merkle';
import { leafHashOf } from '../../../src/audit/log/leaf';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const b64 = (s: string) => Buffer.from(s, 'base64');

describe('the audit log endpoints', () => {
  let h: Harness;
  const auditor = tokenFor('auditor', 'aud');
  const get = (path: string) => h.api().get(path).set('Authorization', `Bearer ${auditor}`);
  const mutate = (i: number) =>
    h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('admin')}`)
      .send({ url: `https://hooks.example.com/${i}` });
  const sign = async () =>
    (await h.api().post('/v1/audit/checkpoint').set('Authorization', `Bearer ${auditor}`).expect(200)).text;

  beforeAll(async () => {
    h = await startHarness({ unowned: true });
  }, 30_000);
  afterAll(async () => h.close());

  test('when a reviewer keeps a checkpoint and the log grows, then the public key verifies both notes, an entry is proven in and the old tree consistent', async () => {
    await mutate(1);
    const first = await sign();
    for (let i = 2; i < 6; i++) await mutate(i);
    const second = await sign();
    const key = (await get('/v1/audit/public-key').expect(200)).body;
    expect(key).toMatchObject({
      origin: expect.stringMatching(/^kloudless-gateway\.audit\/[0-9a-f]{16}$/),
      algorithm: 'Ed25519',
    });
    const verifier = parseVkey(key.verifier_key);
    const old = parseCheckpointBody(verifyNote(first, [verifier]).body);
    const now = parseCheckpointBody(verifyNote(second, [verifier]).body);
    expect(now.size).toBeGreaterThan(old.size);

    const consistency = (await get(`/v1/audit/proof/consistency?from=${old.size}&to=${now.size}`).expect(200)).body;
    expect(consistency.checkpoint).toBe(second);
    expect(verifyConsistency(old.size, now.size, consistency.proof.map(b64), old.root, now.root)).toBe(true);

    const entries = (await get(`/v1/audit/log/entries?to=${now.size}`).expect(200)).text.trim().split('\n');
    expect(entries).toHaveLength(now.size);
    const seq = 2;
    const inclusion = (await get(`/v1/audit/proof/inclusion?sequence=${seq}&tree_size=${now.size}`).expect(200)).body;
    expect(inclusion.leaf_hash).toBe(leafHashOf(JSON.parse(entries[seq - 1] as string)).toString('base64'));
    expect(inclusion.proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(now.size)) + 1);
    expect(verifyInclusion(seq - 1, now.size, b64(inclusion.leaf_hash), inclusion.proof.map(b64), now.root)).toBe(true);

    const read = await get('/v1/audit/checkpoint').expect(200);
    expect(read.headers['content-type']).toMatch(/^text\/plain/);
    expect(read.text).toBe(second);
    const recorded = (await allEntries(h)).filter((e) => e.kind === 'access').map((e) => e.operation);
    expect(recorded).toEqual(
      expect.arrayContaining([
        'audit.checkpoint',
        'audit.public_key',
        'audit.proof_consistency',
        'audit.proof_inclusion',
        'audit.export_log',
      ]),
    );
  });

  test('when a proof is asked beyond the log or with bad numbers, then 400 names the field', async () => {
    const big = await get('/v1/audit/proof/inclusion?sequence=1&tree_size=999999').expect(400);
    expect(big.body.error.details[0]).toMatchObject({ field: 'tree_size', code: 'out_of_range' });
    const bad = await get('/v1/audit/proof/consistency?from=0&to=x').expect(400);
    expect(bad.body.error.code).toBe('validation_failed');
    const backwards = await get('/v1/audit/proof/consistency?from=3&to=2').expect(400);
    expect(backwards.body.error.details[0]).toMatchObject({ field: 'from' });
  });

  test('when a viewer asks for a proof, then 403', async () => {
    await h
      .api()
      .get('/v1/audit/proof/inclusion?sequence=1')
      .set('Authorization', `Bearer ${tokenFor('viewer')}`)
      .expect(403);
  });

  test('when the trail is verified, then the log checks only what it took in since, and full=true walks everything', async () => {
    await mutate(10);
    const first = (await get('/v1/audit/verify').expect(200)).body;
    expect(first).toMatchObject({ ok: true, mode: 'incremental' });
    await mutate(11);
    const next = (await get('/v1/audit/verify').expect(200)).body;
    expect(next).toMatchObject({ ok: true, mode: 'incremental' });
    expect(next.checked).toBeLessThan(next.tree_size);
    const full = (await get('/v1/audit/verify?full=true').expect(200)).body;
    expect(full).toMatchObject({ ok: true, mode: 'full' });
    expect(full.checked).toBe(full.tree_size);
  });
});
