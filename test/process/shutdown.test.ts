import { createSimulator } from '../../src/simulator/server';
import { spawnGateway } from '../helpers/process';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';
import { waitFor } from '../helpers/async';

const gatewayEnv = (upstream: string, extra: Record<string, string> = {}) => ({
  NODE_ENV: 'test',
  PORT: '0',
  KLOUDLESS_API_URL: upstream,
  KLOUDLESS_DEVELOPER_KEY: 'dk-shutdown',
  JWT_SECRET: TEST_SECRET,
  JWT_ISSUER: TEST_ISSUER,
  JWT_AUDIENCE: TEST_AUDIENCE,
  ...extra,
});

test('when SIGTERM arrives with a request in flight and no drain period, then it finishes, new connections are refused and the process exits 0', async () => {
  const simulator = createSimulator({ developerKey: 'dk-shutdown', seed: true });
  const upstream = await simulator.listen(0, '127.0.0.1');
  const gateway = spawnGateway(gatewayEnv(upstream, { DRAIN_PERIOD_MS: '0' }));
  try {
    const url = await gateway.ready;
    simulator.setFault({ kind: 'delay', ms: 800, times: 1 });
    const inFlight = fetch(`${url}/v1/applications`, {
      headers: { Authorization: `Bearer ${signToken({ roles: ['viewer'] })}` },
    });
    await waitFor(() => simulator.requests.length === 1);
    gateway.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await gateway.exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(gateway.stdout()).toMatch(/"msg":"draining: finishing in-flight requests"/);
  } finally {
    gateway.child.kill('SIGKILL');
    await simulator.close();
  }
}, 30_000);

test('when SIGTERM arrives, then /readyz answers 503 draining at once while new requests are still served for DRAIN_PERIOD_MS, then the listener closes and the process exits 0', async () => {
  const simulator = createSimulator({ developerKey: 'dk-shutdown', seed: true });
  const upstream = await simulator.listen(0, '127.0.0.1');
  const gateway = spawnGateway(gatewayEnv(upstream, { DRAIN_PERIOD_MS: '2000' }));
  try {
    const url = await gateway.ready;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const signalled = Date.now();
    gateway.child.kill('SIGTERM');
    await waitFor(() => /"msg":"draining: finishing in-flight requests"/.test(gateway.stdout()), 5_000);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'draining' });
    const served = await fetch(`${url}/v1/applications`, {
      headers: { Authorization: `Bearer ${signToken({ roles: ['viewer'] })}` },
    });
    expect(served.status).toBe(200);
    expect(Date.now() - signalled).toBeLessThan(2_000);
    expect(await gateway.exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(2_000);
    expect(gateway.stdout()).toMatch(/"drain_period_ms":2000/);
    expect(gateway.stdout()).toMatch(/"msg":"drain period over: the listener closes"/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  } finally {
    gateway.child.kill('SIGKILL');
    await simulator.close();
  }
}, 30_000);
