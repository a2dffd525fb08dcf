import { once } from 'node:events';
import { createSimulator } from '../../src/simulator/server';
import { spawnGateway } from '../helpers/process';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';

/**
 * Issue 26: request lines are written asynchronously (pino's asynchronous destination: lines logged while a write is
 * in progress go out together in the next), so a clean shutdown must write what is still buffered before the process
 * exits. Requests are in flight when SIGTERM arrives; every one that was answered has its line on stdout.
 */
test('when SIGTERM arrives while requests are answered, then every answered request has its log line and "stopped" is the last line', async () => {
  const simulator = createSimulator({ developerKey: 'dk-lines', seed: true });
  const upstream = await simulator.listen(0, '127.0.0.1');
  const gateway = spawnGateway({
    NODE_ENV: 'test',
    PORT: '0',
    KLOUDLESS_API_URL: upstream,
    KLOUDLESS_DEVELOPER_KEY: 'dk-lines',
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    RATE_LIMIT_READS: '1000000',
    DRAIN_PERIOD_MS: '0',
  });
  const closed = once(gateway.child.stdout, 'close');
  try {
    const url = await gateway.ready;
    const token = signToken({ roles: ['admin'] });
    const answered: string[] = [];
    let signalled = false;
    // 8 clients, each sending reads back to back until the gateway stops answering; SIGTERM after 400 answers.
    const client = async () => {
      for (;;) {
        const res = await fetch(`${url}/v1/applications`, { headers: { Authorization: `Bearer ${token}` } }).catch(
          () => undefined,
        );
        if (!res) return;
        await res.arrayBuffer();
        if (res.status === 200) answered.push(res.headers.get('x-request-id') as string);
        if (answered.length >= 400 && !signalled) {
          signalled = true;
          gateway.child.kill('SIGTERM');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));
    expect(await gateway.exited).toBe(0);
    await closed;
    const lines = gateway
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; reqId?: string });
    const logged = new Set(lines.filter((l) => l.msg === 'request completed').map((l) => l.reqId));
    expect(answered.length).toBeGreaterThanOrEqual(400);
    expect(answered.filter((id) => !logged.has(id))).toEqual([]);
    expect(lines.at(-1)?.msg).toBe('stopped');
  } finally {
    gateway.child.kill('SIGKILL');
    await simulator.close();
  }
}, 60_000);
