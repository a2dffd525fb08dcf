import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSimulator } from '../../src/simulator/server';
import { spawnGateway } from '../helpers/process';
import { sleep, waitFor } from '../helpers/async';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

/** A port nothing listens on (yet): taken from the kernel, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Redis of this test's own, started only when the test says so (redis-server from the machine's packages). */
function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
}

test('when Redis is unreachable at start-up, then the gateway serves degraded (readiness reports the store, mutations refused by policy) without crashing, and recovers by itself once Redis starts', async () => {
  const simulator = createSimulator({ developerKey: 'dk-redis-down', seed: true });
  const upstream = await simulator.listen(0, '127.0.0.1');
  const port = await freePort();
  const gateway = spawnGateway({
    NODE_ENV: 'test',
    PORT: '0',
    KLOUDLESS_API_URL: upstream,
    KLOUDLESS_DEVELOPER_KEY: 'dk-redis-down',
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    REDIS_URL: `redis://127.0.0.1:${port}`,
    REDIS_PREFIX: `kgw-test-start-${port}:`,
  });
  let redis: ChildProcess | undefined;
  const authorization = `Bearer ${tokenFor('admin', 'ops')}`;
  const write = (url: string) =>
    fetch(`${url}/v1/applications/${APP}/webhooks`, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: 'https://hooks.example.com/redis-start' }),
    });
  const readiness = async (url: string) => {
    const res = await fetch(`${url}/readyz`);
    return { status: res.status, body: (await res.json()) as { checks: { name: string; ok: boolean }[] } };
  };
  try {
    const url = await gateway.ready;
    expect(gateway.stdout()).toMatch(/redis not reachable at start-up/);
    // The crash came a moment after "gateway listening", when the counters' scripts failed to load.
    await sleep(1_500);
    expect(gateway.child.exitCode).toBeNull();
    const ready = await readiness(url);
    expect(ready.body.checks).toContainEqual(expect.objectContaining({ name: 'rate_limit_store', ok: false }));
    const read = await fetch(`${url}/v1/applications`, { headers: { Authorization: authorization } });
    expect(read.status).toBe(200);
    const refused = await write(url);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_unavailable');
    expect(simulator.requests.filter((r) => r.method === 'POST')).toHaveLength(0);

    redis = startRedis(port);
    let status = 0;
    await waitFor(
      async () => (status = (await write(url)).status) === 201,
      15_000,
      'a mutation forwarded once Redis is up',
    );
    expect(status).toBe(201);
    const recovered = await readiness(url);
    expect(recovered.status).toBe(200);
    expect(recovered.body.checks).toContainEqual(expect.objectContaining({ name: 'rate_limit_store', ok: true }));
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.stderr()).not.toMatch(/ClientOfflineError|fatal/);
  } finally {
    gateway.child.kill('SIGKILL');
    redis?.kill('SIGKILL');
    await simulator.close();
  }
}, 40_000);

test('when Redis is still unreachable at SIGTERM, then the gateway drains and exits 0 (it does not wait for a connection that is not coming)', async () => {
  const port = await freePort();
  const gateway = spawnGateway({
    NODE_ENV: 'test',
    PORT: '0',
    KLOUDLESS_API_URL: 'http://127.0.0.1:9/v1',
    KLOUDLESS_DEVELOPER_KEY: 'dk-redis-down',
    JWT_SECRET: TEST_SECRET,
    REDIS_URL: `redis://127.0.0.1:${port}`,
    DRAIN_PERIOD_MS: '200',
  });
  try {
    await gateway.ready;
    gateway.child.kill('SIGTERM');
    const code = await Promise.race([gateway.exited, sleep(10_000).then(() => 'still running')]);
    expect(code).toBe(0);
    expect(gateway.stdout()).toMatch(/"msg":"stopped"/);
  } finally {
    gateway.child.kill('SIGKILL');
  }
}, 30_000);
