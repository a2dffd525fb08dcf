import { allEntries } from '../helpers/audit';
import { waitFor } from '../helpers/async';
import { createTestDatabase, SERVER_URL, type TestDatabase } from '../helpers/database';
import { startHarness, type Harness } from '../helpers/harness';
import { TcpProxy } from '../helpers/tcp-proxy';
import { tokenFor } from '../helpers/tokens';

/**
 * Under a slow database the audit store must write less, not more (issue 13, defect 4): an entry whose caller was
 * already refused before its group commit started is dropped and never appears, and the queue is bounded (past
 * AUDIT_QUEUE_LIMIT a mutation is refused at once). The database is slowed by holding the gateway's audit INSERTs
 * in a TCP proxy until the test lets them through.
 */

const WRITE_TIMEOUT_MS = 500;
const describeWithServer = SERVER_URL ? describe : describe.skip;

describeWithServer('when the audit store is slow', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let h: Harness;
  const admin = tokenFor('admin', 'backlog-admin');

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const target = new URL(db.url!);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    target.host = `127.0.0.1:${proxy.port}`;
    const env = { AUDIT_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS), DATABASE_POOL_SIZE: '1', AUDIT_QUEUE_LIMIT: '2' };
    h = await startHarness({ database: { ...db, url: target.toString() }, env });
  }, 30_000);
  afterAll(async () => {
    proxy.releaseHeld();
    h.assertNoLeaks();
    await h.close();
    await proxy.stop();
    await db.drop();
  });
  beforeEach(() => h.simulator.clearRequests());

  // A create names its owner from the token: the audit INSERT is the first thing it asks of the database.
  const create = async (name: string) => {
    const started = Date.now();
    const res = await h.api().post('/v1/applications').set('Authorization', `Bearer ${admin}`).send({ name });
    return { res, ms: Date.now() - started, requestId: res.headers['x-request-id'] as string };
  };
  const trailOf = async (requestId: string) =>
    (await allEntries(h))
      .filter((e) => e.requestId === requestId)
      .map((e) => `${e.kind}:${e.outcome}`)
      .join(',');

  test('when a caller is refused before its group commit starts, then its entry is dropped and never appears; one whose group had started is completed as not_forwarded', async () => {
    expect((await create('warm')).res.status).toBe(201);
    proxy.holdRequestsContaining('INSERT INTO audit_entry');
    // `first` starts a group at once (its INSERT is held); `second` waits behind it. When the loop stops waiting for
    // the first group, the second starts, and waits for the pool's one connection until the database answers: by
    // then its caller has been refused.
    const [first, second] = await Promise.all([create('first'), create('second')]);
    proxy.releaseHeld();
    for (const { res } of [first, second]) {
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: 'audit_unavailable', details: [{ reason: 'audit_write_timeout' }] });
    }
    await waitFor(
      async () => (await trailOf(first.requestId)) === 'request:null,response:not_forwarded',
      5_000,
      'the late entry completed',
    );
    expect((await create('after')).res.status).toBe(201); // the loop has moved past the second group
    expect(await trailOf(second.requestId)).toBe('');
    expect(h.simulator.requests.filter((r) => r.method === 'POST').map((r) => r.body)).toEqual([
      { name: 'warm' },
      { name: 'after' },
    ]);
    expect((await h.api().get('/v1/audit/verify').set('Authorization', `Bearer ${admin}`)).body.ok).toBe(true);
  });

  test('when more entries wait than AUDIT_QUEUE_LIMIT, then further mutations are refused at once with reason audit_queue_full', async () => {
    proxy.holdRequestsContaining('INSERT INTO audit_entry');
    // One group in flight, two entries waiting (the limit), three refused without waiting.
    const results = await Promise.all(['q0', 'q1', 'q2', 'q3', 'q4', 'q5'].map((name) => create(name)));
    proxy.releaseHeld();
    expect(results.map((r) => r.res.status)).toEqual([503, 503, 503, 503, 503, 503]);
    const reasons = results.map((r) => r.res.body.error.details[0].reason as string);
    expect([...reasons].sort()).toEqual([
      'audit_queue_full',
      'audit_queue_full',
      'audit_queue_full',
      'audit_write_timeout',
      'audit_write_timeout',
      'audit_write_timeout',
    ]);
    const full = results.filter((r) => r.res.body.error.details[0].reason === 'audit_queue_full');
    for (const { res, ms } of full) {
      expect(res.headers['retry-after']).toBe('5');
      expect(ms).toBeLessThan(WRITE_TIMEOUT_MS / 2);
    }
    for (const { requestId } of full) expect(await trailOf(requestId)).toBe('');
    expect(h.simulator.requests).toEqual([]);
    await waitFor(async () => (await create('after-full')).res.status === 201, 5_000, 'a mutation accepted again');
  });
});
