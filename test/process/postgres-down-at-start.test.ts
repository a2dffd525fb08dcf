import { createSimulator } from '../../src/simulator/server';
import { waitFor } from '../helpers/async';
import { createTestDatabase, SERVER_URL, type TestDatabase } from '../helpers/database';
import { spawnGateway } from '../helpers/process';
import { TcpProxy } from '../helpers/tcp-proxy';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, tokenFor } from '../helpers/tokens';

const describeWithPostgres = SERVER_URL ? describe : describe.skip;

describeWithPostgres('when Postgres is unreachable at start-up', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => db.drop());

  test('then the process stays up answering /healthz 200 and /readyz 503, refuses API calls with 503 audit_unavailable, and starts by itself once Postgres answers', async () => {
    const target = new URL(db.url!);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    await proxy.stop(); // its port, with nothing listening yet
    const url = Object.assign(new URL(db.url!), { port: String(proxy.port) }).toString();
    const simulator = createSimulator({ developerKey: 'dk-pg-down', seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const gateway = spawnGateway({
      NODE_ENV: 'test',
      PORT: '0',
      KLOUDLESS_API_URL: upstream,
      KLOUDLESS_DEVELOPER_KEY: 'dk-pg-down',
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
      DATABASE_URL: url,
      AUDIT_HMAC_KEY: 'pg-down-audit-key-of-at-least-32-bytes',
      LOG_LEVEL: 'debug',
    });
    try {
      await waitFor(() => /database not reachable at start-up/.test(gateway.stdout()), 20_000, 'the retry line');
      const base = /"url":"(http:\/\/[^"]+)","msg":"port open/.exec(gateway.stdout())![1]!;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'starting' });
      const refused = await fetch(`${base}/v1/applications`, {
        headers: { Authorization: `Bearer ${tokenFor('viewer')}` },
      });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('audit_unavailable');
      expect(gateway.child.exitCode).toBeNull();

      await proxy.start();
      expect(await gateway.ready).toBe(base);
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 10_000, 'ready');
      const served = await fetch(`${base}/v1/applications`, {
        headers: { Authorization: `Bearer ${tokenFor('viewer')}` },
      });
      expect(served.status).toBe(200);
    } finally {
      gateway.child.kill('SIGKILL');
      await proxy.stop();
      await simulator.close();
    }
  }, 60_000);
});
