import { signCheckpoint } from '../../src/audit/review/json-checkpoint';
import { nowMicros } from '../../src/audit/trail/entry';
import { systemEntry } from '../../src/audit/recording/recorder';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

/**
 * Issue 18, finding 2: concurrent verifications were shared only when their `checkpoint` strings were equal, and
 * the lenient base64url decoder took `=` padding, so one checkpoint had any number of spellings and each started
 * a full walk. Now a checkpoint has one spelling, and at most one walk runs per instance: verifications that can
 * join it do, the others get 429 with Retry-After.
 */

let h: Harness;
let auditor: string;
beforeAll(async () => {
  h = await startHarness();
  auditor = tokenFor('auditor', 'rita');
  // A trail long enough that a walk takes a while: 2,000 entries of ~12 KB.
  const filler = { note: 'x'.repeat(12_000) };
  for (let batch = 0; batch < 8; batch++) {
    await Promise.all(
      Array.from({ length: 250 }, () => h.deps.audit.store.append({ ...systemEntry('test.filler'), details: filler })),
    );
  }
}, 60_000);
afterAll(async () => h.close());

/** A verification, sent at once (supertest sends on `then`); `as` another auditor, past the per-caller limit. */
const verify = (query = '', as = auditor) =>
  h
    .api()
    .get(`/v1/audit/verify${query}`)
    .set('Authorization', `Bearer ${as}`)
    .then((r) => r);
const checkpointAt = async (seq: bigint) =>
  signCheckpoint(h.deps.audit.keys, await h.deps.audit.store.entryAt(seq), nowMicros()).token;

test('when a checkpoint is spelled with = padding, then it is refused as bad_checkpoint and starts no walk', async () => {
  // The deprecated JSON checkpoint (the signed note of issue 15 is the default answer).
  const token = (
    await h
      .api()
      .get('/v1/audit/checkpoint')
      .set('Authorization', `Bearer ${auditor}`)
      .set('Accept', 'application/json')
  ).body.token as string;
  const [payload, signature] = token.split('.');
  const walksBefore = h.deps.audit.walks.started();
  for (const spelling of [`${payload}=.${signature}`, `${payload}.${signature}==`, `${payload}%3D.${signature}`]) {
    const res = await verify(`?checkpoint=${spelling}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, problem: 'bad_checkpoint' });
  }
  expect(h.deps.audit.walks.started()).toBe(walksBefore);
  expect((await verify(`?checkpoint=${token}`)).body).toMatchObject({ ok: true, checkpoint: { verified: true } });
});

test('when eight verifications arrive together, with and without a checkpoint, then one walk answers them all', async () => {
  const token = await checkpointAt(1500n);
  const walksBefore = h.deps.audit.walks.started();
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      verify(i % 2 === 0 ? '' : `?checkpoint=${token}`, tokenFor('auditor', `rita-${i}`)),
    ),
  );
  expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
  expect(results.map((r) => r.body.ok)).toEqual(results.map(() => true));
  expect(results.filter((r) => r.body.checkpoint).map((r) => r.body.checkpoint)).toEqual(
    [1, 2, 3, 4].map(() => ({ sequence: '1500', verified: true })),
  );
  expect(h.deps.audit.walks.started()).toBe(walksBefore + 1);
});

test('when a verification needs an entry the walk in progress has passed, then 429 with Retry-After and an access entry', async () => {
  const early = await checkpointAt(1n);
  // A walk of the whole chain: a legacy checkpoint at its newest entry (without one, /verify asks the Merkle log).
  const running = verify(`?checkpoint=${await checkpointAt((await h.deps.audit.store.latest())!.seq)}`);
  while (!(h.deps.audit.walks.current()?.reachedSeq ?? 0n)) await new Promise((r) => setImmediate(r));
  const refused = await verify(`?checkpoint=${early}`, tokenFor('auditor', 'second-reviewer'));
  expect(refused.status).toBe(429);
  expect(refused.body.error).toMatchObject({ code: 'rate_limited', details: [{ reason: 'verification_in_progress' }] });
  expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect((await allEntries(h)).filter((e) => e.requestId === refused.body.error.request_id)).toEqual([
    expect.objectContaining({
      kind: 'access',
      operation: 'audit.verify',
      errorCode: 'rate_limited',
      outcome: 'rate_limited',
    }),
  ]);
  expect((await running).body.ok).toBe(true);
  expect((await verify(`?checkpoint=${early}`)).body).toMatchObject({
    ok: true,
    checkpoint: { sequence: '1', verified: true },
  });
});

test('when a checkpoint entry was altered, then the shared walk reports checkpoint_mismatch to that caller only', async () => {
  const token = await checkpointAt(10n);
  const forged = signCheckpoint(
    h.deps.audit.keys,
    { ...(await h.deps.audit.store.entryAt(10n))!, hash: Buffer.alloc(32, 7) },
    nowMicros(),
  ).token;
  // A caller that arrives after the walk passed its checkpoint's entry is told to come back (429, tested above);
  // on a loaded machine that can be any of them, so such a caller asks again, as a client would.
  const again = async (call: () => ReturnType<typeof verify>) => {
    let res = await call();
    for (let tries = 0; res.status === 429 && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 20));
      res = await call();
    }
    return res;
  };
  const [plain, good, bad] = await Promise.all([
    verify(),
    again(() => verify(`?checkpoint=${token}`)),
    again(() => verify(`?checkpoint=${forged}`, tokenFor('auditor', 'third-reviewer'))),
  ]);
  expect(plain.body.ok).toBe(true);
  expect(good.body).toMatchObject({ ok: true, checkpoint: { sequence: '10' } });
  expect(bad.body).toMatchObject({ ok: false, problem: 'checkpoint_mismatch', first_bad_sequence: '10', entries: 9 });
});
