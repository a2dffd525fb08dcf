import { createSimulator } from '../../src/simulator/server';
import { spawnGateway } from '../helpers/process';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';
import { waitFor } from '../helpers/async';

test('when SIGTERM arrives with a request in flight, then it finishes, new connections are refused and the process exits 0', async () => {
  const simulator = createSimulator({ developerKey: 'dk-shutdown', seed: true });
  const upstream = await simulator.listen(0, '127.0.0.1');
  const gateway = spawnGateway({
    NODE_ENV: 'test',
    PORT: '0',
    KLOUDLESS_API_URL: upstream,
    KLOUDLESS_DEVELOPER_KEY: 'dk-shutdown',
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
  });
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
