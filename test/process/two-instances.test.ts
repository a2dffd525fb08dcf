import { createSimulator } from '../../src/simulator/server';
import { createTestDatabase, SERVER_URL } from '../helpers/database';
import { spawnGateway, type GatewayProcess } from '../helpers/process';
import { REDIS_URL, redisEnv } from '../helpers/redis';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
// N replicas need what they share: a server Postgres and Redis. CI always has both.
const testWithServices = SERVER_URL && REDIS_URL ? test : test.skip;

testWithServices(
  "when two gateway processes share one Redis and one Postgres, then a person's limit holds across both and the audit chain stays valid",
  async () => {
    const simulator = createSimulator({ developerKey: 'dk-two', seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const env = {
      NODE_ENV: 'test',
      PORT: '0',
      KLOUDLESS_API_URL: upstream,
      KLOUDLESS_DEVELOPER_KEY: 'dk-two',
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
      DATABASE_URL: db.url!,
      AUDIT_HMAC_KEY: 'two-instances-audit-key-of-32-bytes-or-more',
      RATE_LIMIT_WRITES: '10',
      ...redisEnv('redis'),
    };
    const gateways: GatewayProcess[] = [spawnGateway(env), spawnGateway(env)];
    try {
      const urls = await Promise.all(gateways.map((g) => g.ready));
      const token = signToken({ sub: 'busy-bee', roles: ['admin'] });
      const send = (i: number) =>
        fetch(`${urls[i % 2]}/v1/applications/${APP}/webhooks`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ url: `https://hooks.example.com/two/${i}` }),
        }).then((r) => r.status);
      const statuses = await Promise.all(Array.from({ length: 16 }, (_, i) => send(i)));
      expect(statuses.filter((s) => s === 201)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(6);
      expect(simulator.requests.filter((r) => r.method === 'POST')).toHaveLength(10);

      const auditor = signToken({ sub: 'reviewer', roles: ['auditor'] });
      const verify = (await (
        await fetch(`${urls[1]}/v1/audit/verify`, { headers: { Authorization: `Bearer ${auditor}` } })
      ).json()) as { ok: boolean; entries: number };
      // 10 forwarded (request + response) and 6 refused (one decision entry each).
      expect(verify).toMatchObject({ ok: true, entries: 26 });
    } finally {
      for (const g of gateways) g.child.kill('SIGTERM');
      await Promise.all(gateways.map((g) => g.exited));
      await simulator.close();
      await db.drop();
    }
  },
  60_000,
);
