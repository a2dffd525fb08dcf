import { Client } from 'pg';
import { allEntries } from '../helpers/audit';
import { createTestDatabase, SERVER_URL, type TestDatabase } from '../helpers/database';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { sleep, waitFor } from '../security/support';

/**
 * The audit store slow rather than down: another session holds a lock on audit_entry, or the chain's lock, so the
 * INSERT waits.
 * Mutations must be refused within AUDIT_WRITE_TIMEOUT_MS and not forwarded, reads must not notice, and
 * the gateway must recover by itself when the lock goes. The stopped and hung database cases are in
 * test/audit/fail-closed.test.ts.
 */

const WRITE_TIMEOUT_MS = 500;
// The bound on a refusal: the write timeout, plus the wait for a pooled connection, plus scheduling slack.
const REFUSAL_BOUND_MS = 2 * WRITE_TIMEOUT_MS + 700;
const describeWithServer = SERVER_URL ? describe : describe.skip;

const TABLE_LOCK = 'LOCK TABLE audit_entry IN EXCLUSIVE MODE';
// The chain's advisory lock (CHAIN_LOCK in src/audit/trail/store.ts), which every insert takes.
const CHAIN_LOCK = 'SELECT pg_advisory_xact_lock(7319004212)';

describeWithServer.each([
  ['a lock held by another session', '4', TABLE_LOCK],
  ['a lock held by another session and a pool of one connection (exhausted)', '1', TABLE_LOCK],
  ['the chain lock held by another session', '4', CHAIN_LOCK],
])('when the audit INSERT waits on %s', (_label, poolSize, lockSql) => {
  let db: TestDatabase;
  let h: Harness;
  let admin: string;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    h = await startHarness({
      database: db,
      env: { AUDIT_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS), DATABASE_POOL_SIZE: poolSize },
    });
    admin = tokenFor('admin', 'slow-db-admin');
  }, 30_000);
  afterAll(async () => {
    h.assertNoLeaks();
    await h.close();
    await db.drop();
  });

  // A create: its owner comes from the token, so the audit INSERT is the first thing to touch the database (a
  // mutation on an existing application reads its owner first, and that read is refused as ownership_unavailable).
  const mutate = (i: number) =>
    h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: `Slow ${i}` });
  const timed = async <T>(work: () => Promise<T>) => {
    const started = Date.now();
    const result = await work();
    return { result, ms: Date.now() - started };
  };

  test('then mutations are refused (503) within the bound and not forwarded, reads are unaffected, and it recovers when the lock goes', async () => {
    expect((await mutate(0)).status).toBe(201); // warm: the pool holds a connection
    h.simulator.clearRequests();

    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(lockSql);
    const lockedAt = Date.now();
    const refused: string[] = [];
    try {
      // Several mutations, one after another and some at once, for as long as the lock is held.
      while (Date.now() - lockedAt < 3_000) {
        const attempts = await Promise.all([1, 2, 3].map((i) => timed(() => mutate(i))));
        for (const { result, ms } of attempts) {
          expect(result.status).toBe(503);
          expect(result.body.error).toMatchObject({ code: 'audit_unavailable' });
          expect(result.headers['retry-after']).toBe('5');
          expect(ms).toBeLessThan(REFUSAL_BOUND_MS);
          refused.push(result.headers['x-request-id'] as string);
        }
        const read = await timed(() => h.api().get('/v1/applications').set('Authorization', `Bearer ${admin}`));
        expect(read.result.status).toBe(200);
        expect(read.ms).toBeLessThan(500);
      }
      expect(h.simulator.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
      expect((await h.api().get('/readyz')).status).toBe(200);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }

    // Recovery needs no restart: the next mutations go through once the waiting writes drain.
    await waitFor(async () => (await mutate(9)).status === 201, 10_000, 'a mutation accepted again');
    await sleep(2 * WRITE_TIMEOUT_MS);
    const entries = await allEntries(h);
    for (const requestId of refused) {
      // Either the waiting INSERT gave up (lock_timeout), or it got the lock just as it was released, after its
      // caller had stopped waiting, and the trail says the attempt was never forwarded; never a request entry
      // standing alone.
      const kinds = entries
        .filter((e) => e.requestId === requestId)
        .map((e) => `${e.kind}:${e.outcome}`)
        .join(',');
      expect(['', 'request:null,response:not_forwarded']).toContain(kinds);
    }
    const verify = await h.api().get('/v1/audit/verify').set('Authorization', `Bearer ${admin}`);
    expect(verify.body.ok).toBe(true);
  }, 30_000);
});
