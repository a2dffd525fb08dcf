import { randomBytes } from 'node:crypto';
import { createSimulator } from '../../src/simulator/server';
import { outcomeOf } from '../helpers/async';
import { createTestDatabase, SERVER_URL } from '../helpers/database';
import { spawnGateway, type GatewayProcess } from '../helpers/process';
import { REDIS_URL } from '../helpers/redis';
import { signToken } from '../helpers/tokens';
import {
  APP,
  apiKeyValues,
  assertNothingLeaked,
  auditRows,
  inFlight,
  processEnv,
  recordingFetch,
  within,
  type Seen,
} from '../security/support';

/**
 * Load without loss: 1,000 mutations, 100 at a time, through two gateway processes sharing one fresh Postgres
 * database and one Redis (a prefix of this test's own). Every answer is accounted for at the upstream and in
 * the trail, and the chain is one valid chain. test/audit/concurrency.test.ts does 500 through two in-process
 * instances; this is the processes, the shared counters and twice the volume.
 */

const DEVELOPER_KEY = 'dk-load-5f4e3d2c1b0a9f8e7d6c';
const TOTAL = 1_000;
const CONCURRENCY = 100;
const testWithServices = SERVER_URL && REDIS_URL ? test : test.skip;

testWithServices(
  `when ${TOTAL} mutations arrive ${CONCURRENCY} at a time through two gateway processes, then none is lost: ${TOTAL} request and ${TOTAL} response entries, one valid chain`,
  async () => {
    const simulator = createSimulator({ developerKey: DEVELOPER_KEY, seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const env = processEnv(upstream, DEVELOPER_KEY, db.url!, {
      REDIS_URL: REDIS_URL!,
      REDIS_PREFIX: `kgw-load-${randomBytes(4).toString('hex')}:`,
      RATE_LIMIT_WRITES: '1000000',
      // Nothing lost and one chain is what is tested, not latency: deadlines a loaded machine cannot miss.
      UPSTREAM_TIMEOUT_MS: '30000',
      AUDIT_WRITE_TIMEOUT_MS: '30000',
    });
    const gateways: GatewayProcess[] = [spawnGateway(env), spawnGateway(env)];
    const seen: Seen[] = [];
    const call = recordingFetch(seen);
    try {
      const urls = await within(Promise.all(gateways.map((g) => g.ready)), 20_000, 'two gateways ready');
      const admin = signToken({ sub: 'load-admin', roles: ['admin'] });
      const started = Date.now();
      const answers = await inFlight(
        TOTAL,
        CONCURRENCY,
        async (i) =>
          await call(`${urls[i % 2]}/v1/applications/${APP}/webhooks`, {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${admin}`,
              'Content-Type': 'application/json',
              'X-Request-Id': `load-${String(i).padStart(5, '0')}`,
            },
            body: JSON.stringify({ url: `https://hooks.example.com/load/${i}` }),
          }),
      );
      const statuses = answers.map((a) => a.status);
      const elapsedMs = Date.now() - started;

      const allowed = statuses.filter((s) => s === 201).length;
      const outcomes = answers.map((a) => outcomeOf(a.status, a.text.startsWith('{') ? JSON.parse(a.text) : a.text));
      expect(outcomes.filter((o) => o !== '201')).toEqual([]);
      expect(simulator.requests.filter((r) => r.method === 'POST')).toHaveLength(allowed);

      const rows = await auditRows(db.url!);
      expect(rows.filter((r) => r.kind === 'request')).toHaveLength(TOTAL);
      expect(rows.filter((r) => r.kind === 'response')).toHaveLength(TOTAL);
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => String(i + 1)));
      const byEvent = new Map<string, string[]>();
      for (const r of rows) byEvent.set(r.event_id, [...(byEvent.get(r.event_id) ?? []), `${r.kind}:${r.outcome}`]);
      expect([...byEvent.entries()].filter(([, k]) => k.join() !== 'request:null,response:success')).toEqual([]);

      const auditor = signToken({ sub: 'load-auditor', roles: ['auditor'] });
      const verify = JSON.parse(
        (await call(`${urls[1]}/v1/audit/verify`, { headers: { Authorization: `Bearer ${auditor}` } })).text,
      );
      expect(verify).toMatchObject({ ok: true, entries: 2 * TOTAL });
      expect(elapsedMs).toBeLessThan(40_000);
    } finally {
      for (const g of gateways) g.child.kill('SIGTERM');
      await Promise.all(gateways.map((g) => g.exited));
      await simulator.close();
      await db.drop();
    }
    assertNothingLeaked({
      developerKey: DEVELOPER_KEY,
      responses: seen,
      logs: gateways.flatMap((g) => [g.stdout(), g.stderr()]),
      apiKeys: apiKeyValues(simulator),
    });
  },
  60_000,
);
