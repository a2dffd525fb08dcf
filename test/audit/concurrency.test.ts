import { SERVER_URL, createTestDatabase, type TestDatabase } from '../helpers/database';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { inFlight, outcomeOf } from '../helpers/async';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
// Two gateway instances on one audit store need a server Postgres (the embedded one is single-process).
const describeWithServer = SERVER_URL ? describe : describe.skip;

describeWithServer('two gateway instances writing one audit trail', () => {
  let db: TestDatabase;
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    // What is tested is that nothing is lost and the chain is one chain, not how fast: deadlines a loaded machine
    // cannot miss (100 requests in flight, two gateways and the upstream share one process).
    const env = { UPSTREAM_TIMEOUT_MS: '30000', AUDIT_WRITE_TIMEOUT_MS: '30000' };
    [a, b] = await Promise.all([startHarness({ database: db, env }), startHarness({ database: db, env })]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await db.drop();
  });

  test('when 500 mutations arrive concurrently through both, then there are 1000 entries in one valid chain', async () => {
    const admin = tokenFor('admin');
    const send = (h: Harness, i: number) =>
      h
        .api()
        .post(`/v1/applications/${APP}/webhooks`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ url: `https://hooks.example.com/c/${i}` });
    const outcomes = await inFlight(500, 100, (i) =>
      send(i % 2 === 0 ? a : b, i).then((r) => outcomeOf(r.status, r.body)),
    );
    expect(outcomes.filter((o) => o !== '201')).toEqual([]);
    expect(a.simulator.requests.length + b.simulator.requests.length).toBe(500);

    const entries = await allEntries(a);
    expect(entries).toHaveLength(1000);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => BigInt(i + 1)));
    const byEvent = new Map<string, string[]>();
    for (const e of entries) byEvent.set(e.eventId, [...(byEvent.get(e.eventId) ?? []), e.kind]);
    expect([...byEvent].filter(([, kinds]) => kinds.join() !== 'request,response')).toEqual([]);
    const verify = await b
      .api()
      .get('/v1/audit/verify')
      .set('Authorization', `Bearer ${tokenFor('auditor')}`);
    expect(verify.body).toMatchObject({ ok: true, entries: 1000, last_sequence: '1000' });
  }, 60_000);
});
