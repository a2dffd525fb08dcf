import { Client } from 'pg';
import { startHarness, type Harness } from '../helpers/harness';
import { fingerprintOf, seedLargeTrail } from '../helpers/large-trail';
import { tokenFor } from '../helpers/tokens';
import { DEFAULT_BACKEND } from '../helpers/database';

/**
 * Issue 18, finding 3: reviewers' searches ran on the pool audit writes use, unbounded in time, and the filters on
 * outcome, target and fingerprint scanned the trail with a join per entry. A dozen of them at once held every
 * connection for seconds and each mutation meanwhile got 503 audit_unavailable. Now reads have their own pool
 * with a statement timeout, those filters use indexes, and mutations go on while reviewers search.
 */

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const describeOnPostgres = DEFAULT_BACKEND === 'postgres' ? describe : describe.skip;

describeOnPostgres('audit reads under load', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { AUDIT_READ_TIMEOUT_MS: '5000' } });
    const head = (await h.deps.audit.store.latest())?.seq ?? 0n;
    await seedLargeTrail(h.gateway.database.prisma, 200_000, Number(head));
  }, 120_000);
  afterAll(async () => h.close());

  test('when a dozen expensive searches run at once on a large trail, then every mutation made meanwhile succeeds', async () => {
    const searches = [
      'outcome=upstream_timeout',
      'outcome=upstream_error',
      'outcome=pending',
      'application_id=wh17',
      'application_id=app17',
      `key_fingerprint=${fingerprintOf(500 * 77)}`,
    ];
    const reads = Array.from({ length: 12 }, (_, i) =>
      h
        .api()
        .get(`/v1/audit/events?${searches[i % searches.length]}&limit=100`)
        .set('Authorization', `Bearer ${tokenFor('auditor', `searcher-${i}`)}`)
        .then((r) => r),
    );
    const admin = tokenFor('admin', 'ada');
    const mutations: number[] = [];
    for (let i = 0; i < 15; i++) {
      const res = await h
        .api()
        .post(`/v1/applications/${APP}/webhooks`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ url: `https://hooks.example.com/during-search/${i}` });
      mutations.push(res.status);
    }
    expect(mutations).toEqual(mutations.map(() => 201));
    const statuses = (await Promise.all(reads)).map((r) => r.status);
    // Reads are answered (200) or refused as unavailable when the read pool is saturated; never a 500.
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
  }, 60_000);

  test('when one caller starts more reads than AUDIT_READS_PER_CALLER, then the extra ones get 429 with Retry-After', async () => {
    const token = tokenFor('auditor', 'greedy');
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        h
          .api()
          .get('/v1/audit/events?outcome=pending&limit=10')
          .set('Authorization', `Bearer ${token}`)
          .then((r) => r),
      ),
    );
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused[0]!.body.error.details[0]).toMatchObject({ reason: 'audit_reads_in_flight', limit: 2 });
    expect(refused[0]!.headers['retry-after']).toBe('1');
  });

  test('when a read runs past AUDIT_READ_TIMEOUT_MS, then 503 audit_read_unavailable, not 500', async () => {
    const slow = await startHarness({ database: h.database, env: { AUDIT_READ_TIMEOUT_MS: '100' } });
    // A read that cannot finish in time whatever the machine's speed: the table is locked by another session.
    const locker = new Client({ connectionString: h.database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE audit_entry IN ACCESS EXCLUSIVE MODE');
      const res = await slow
        .api()
        .get('/v1/audit/events?outcome=pending&limit=10')
        .set('Authorization', `Bearer ${tokenFor('auditor', 'patient')}`);
      await locker.query('ROLLBACK');
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({
        code: 'audit_read_unavailable',
        details: [{ reason: 'statement_timeout' }],
      });
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await locker.end();
      await slow.close();
    }
  }, 60_000);
});
