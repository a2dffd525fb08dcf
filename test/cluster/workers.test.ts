import { request } from 'node:http';
import { createSimulator, type Simulator } from '../../src/simulator/server';
import { waitFor } from '../helpers/async';
import { createTestDatabase, SERVER_URL, type TestDatabase } from '../helpers/database';
import { spawnGateway, type GatewayProcess } from '../helpers/process';
import { REDIS_URL, redisEnv } from '../helpers/redis';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const KEY = 'dk-workers';
// Several workers need what they share: a server Postgres and Redis. CI always has both.
const describeWithServices = SERVER_URL && REDIS_URL ? describe : describe.skip;

interface Answer {
  status: number;
  body: string;
}

/** One request on a connection of its own: node:cluster hands out connections, so each may reach another worker. */
function send(base: string, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    ...(payload ? { 'Content-Type': 'application/json' } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface Scrape {
  /** gateway_worker_requests by pid. */
  perWorker: Map<number, number>;
  value(line: RegExp): number | undefined;
}

async function scrape(metricsUrl: string): Promise<Scrape> {
  const text = await (await fetch(metricsUrl)).text();
  const perWorker = new Map<number, number>();
  for (const [, pid, n] of text.matchAll(/^gateway_worker_requests\{worker="\d+",pid="(\d+)"\} (\d+)$/gm))
    perWorker.set(Number(pid), Number(n));
  return {
    perWorker,
    value(line) {
      const match = text.split('\n').find((l) => line.test(l));
      return match === undefined ? undefined : Number(match.split(' ').at(-1));
    },
  };
}

/** Which worker answered the request `act` sends: the one whose count of answered requests went up. */
async function servedBy(metricsUrl: string, act: () => Promise<Answer>): Promise<{ answer: Answer; pid: number }> {
  const before = (await scrape(metricsUrl)).perWorker;
  const answer = await act();
  const after = (await scrape(metricsUrl)).perWorker;
  const moved = [...after].filter(([pid, n]) => n > (before.get(pid) ?? 0)).map(([pid]) => pid);
  expect(moved).toHaveLength(1);
  return { answer, pid: moved[0] as number };
}

function listening(gateway: GatewayProcess): { url: string; metrics: string; pids: number[] } {
  const line = gateway
    .stdout()
    .split('\n')
    .find((l) => l.includes('"msg":"gateway listening"')) as string;
  return JSON.parse(line) as { url: string; metrics: string; pids: number[] };
}

describeWithServices('WORKERS=2: one gateway, two worker processes on one port', () => {
  let simulator: Simulator;
  let db: TestDatabase;
  let gateway: GatewayProcess;
  let url: string;
  let metrics: string;
  let pids: number[];

  beforeAll(async () => {
    simulator = createSimulator({ developerKey: KEY, seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    db = await createTestDatabase('postgres');
    gateway = spawnGateway({
      NODE_ENV: 'test',
      PORT: '0',
      WORKERS: '2',
      KLOUDLESS_API_URL: upstream,
      KLOUDLESS_DEVELOPER_KEY: KEY,
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
      DATABASE_URL: db.url!,
      AUDIT_HMAC_KEY: 'workers-audit-key-of-at-least-32-bytes',
      RATE_LIMIT_WRITES: '4',
      ...redisEnv('redis'),
    });
    url = await gateway.ready;
    ({ metrics, pids } = listening(gateway));
  }, 60_000);

  afterAll(async () => {
    gateway?.child.kill('SIGKILL');
    await simulator?.close();
    await db?.drop();
  });

  test('when requests arrive on separate connections, then both workers answer, and the metrics port sums what they counted', async () => {
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(gateway.child.pid);
    const token = signToken({ sub: 'spread', roles: ['viewer'] });
    const before = await scrape(metrics);
    const counted = () => before.value(/^gateway_requests_total\{operation="applications.list",status="200"\}/) ?? 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(url, 'GET', '/v1/applications', token)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));

    const after = await scrape(metrics);
    expect([...after.perWorker.keys()].sort()).toEqual([...pids].sort());
    for (const pid of pids) expect(after.perWorker.get(pid)).toBeGreaterThan(before.perWorker.get(pid) ?? 0);
    // The counter is the sum over both workers: 20 more, and equal to what the workers say they answered.
    expect(after.value(/^gateway_requests_total\{operation="applications.list",status="200"\}/)).toBe(counted() + 20);
    const answeredByWorkers = [...after.perWorker.values()].reduce((a, b) => a + b, 0);
    const allRequests = after.value(/^gateway_requests_total\{operation="applications.list",status="200"\}/);
    expect(answeredByWorkers).toBe(allRequests);
    expect(after.value(/^gateway_workers\{state="serving"\}/)).toBe(2);
    // Each worker writes its own lines to the shared stdout; none is cut into by another's.
    for (const line of gateway.stdout().split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
  });

  test("when one person's mutations reach both workers, then the budget is exact: the 5th and later are refused whichever worker serves them", async () => {
    const token = signToken({ sub: 'busy-bee', roles: ['admin'] });
    const create = (i: number) => () =>
      send(url, 'POST', `/v1/applications/${APP}/webhooks`, token, { url: `https://hooks.example.com/workers/${i}` });
    const allowed: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { answer } = await servedBy(metrics, create(i));
      allowed.push(answer.status);
    }
    expect(allowed).toEqual([201, 201, 201, 201]);
    const refusedBy = new Set<number>();
    for (let i = 4; i < 12 && refusedBy.size < 2; i++) {
      const { answer, pid } = await servedBy(metrics, create(i));
      expect(answer.status).toBe(429);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'rate_limited' } });
      refusedBy.add(pid);
    }
    expect([...refusedBy].sort()).toEqual([...pids].sort());
    expect(simulator.requests.filter((r) => r.method === 'POST')).toHaveLength(4);
  });

  test('when a worker is killed, then the others keep serving and a new worker replaces it and serves', async () => {
    const token = signToken({ sub: 'survivor', roles: ['viewer'] });
    const [victim, survivor] = pids as [number, number];
    process.kill(victim, 'SIGKILL');
    // Counted by the primary once the worker has exited, so no connection is handed to it any more.
    await waitFor(
      async () => (await scrape(metrics)).value(/^gateway_worker_restarts_total/) === 1,
      15_000,
      'the death noticed',
    );
    expect((await send(url, 'GET', '/v1/applications', token)).status).toBe(200);

    await waitFor(
      async () => (await scrape(metrics)).value(/^gateway_workers\{state="serving"\}/) === 2,
      45_000,
      'a replacement serving',
    );
    const now = await scrape(metrics);
    expect(now.value(/^gateway_worker_restarts_total/)).toBe(1);
    const replacement = [...now.perWorker.keys()].find((pid) => pid !== survivor) as number;
    expect(replacement).not.toBe(victim);
    expect(gateway.stdout()).toMatch(
      new RegExp(
        `"worker_pid":${victim},.*"signal":"SIGKILL","replace_in_ms":\\d+,"msg":"a worker died; replacing it"`,
      ),
    );
    // Served by the replacement, too: connections go to every live worker in turn.
    const servers = new Set<number>();
    for (let i = 0; i < 10 && servers.size < 2; i++) {
      const { answer, pid } = await servedBy(metrics, () => send(url, 'GET', '/v1/applications', token));
      expect(answer.status).toBe(200);
      servers.add(pid);
    }
    expect([...servers].sort()).toEqual([replacement, survivor].sort());
    pids = [survivor, replacement];
  }, 60_000);

  test('when SIGHUP reaches the primary, then every worker re-reads its files', async () => {
    const reloads = () =>
      [
        ...gateway
          .stdout()
          .matchAll(/"pid":(\d+),[^\n]*"msg":"SIGHUP: re-reading the DeveloperKey file and the policy file"/g),
      ].map((m) => Number(m[1]));
    gateway.child.kill('SIGHUP');
    await waitFor(() => reloads().length === 2, 10_000, 'both workers reloading');
    expect(reloads().sort()).toEqual([...pids].sort());
  });

  test('when SIGTERM reaches the primary with a request in flight, then the request finishes, every worker stops and the gateway exits 0', async () => {
    simulator.setFault({ kind: 'delay', ms: 1_000, times: 1 });
    const seen = simulator.requests.length;
    const inFlight = send(url, 'GET', `/v1/applications/${APP}`, signToken({ sub: 'late', roles: ['admin'] }));
    await waitFor(() => simulator.requests.length > seen);
    gateway.child.kill('SIGTERM');
    expect((await inFlight).status).toBe(200);
    expect(await gateway.exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    const out = gateway.stdout();
    expect(out.match(/"msg":"draining: finishing in-flight requests"/g)).toHaveLength(3);
    expect(out).toMatch(/"exit_codes":\[0,0\],"msg":"stopped"/);
  }, 30_000);
});

describe('WORKERS refusals at start-up', () => {
  const base = {
    NODE_ENV: 'test',
    PORT: '0',
    KLOUDLESS_API_URL: 'http://127.0.0.1:9/v1',
    KLOUDLESS_DEVELOPER_KEY: KEY,
    JWT_SECRET: TEST_SECRET,
  };

  test.each([
    [
      '2 without REDIS_URL',
      { WORKERS: '2', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/none' },
      'workers_need_redis',
      /WORKERS=2 needs REDIS_URL/,
    ],
    [
      '2 with the embedded database',
      { WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' },
      'workers_need_database_url',
      /WORKERS=2 needs DATABASE_URL/,
    ],
    ['0', { WORKERS: '0' }, 'workers_invalid', /WORKERS must be "auto" or a whole number from 1 to 64, not "0"/],
    ['a word', { WORKERS: 'many' }, 'workers_invalid', /not "many"/],
  ])(
    'when WORKERS is %s, then the gateway exits 78 naming the code and the setting, and forks nothing',
    async (_label, env, code, message) => {
      const gateway = spawnGateway({ ...base, ...env });
      expect(await gateway.exited).toBe(78);
      expect(gateway.stderr()).toContain(`[${code}]`);
      expect(gateway.stderr()).toMatch(message);
      expect(gateway.stdout()).toBe('');
    },
  );
});

describeWithServices('WORKERS=2 when a worker cannot start', () => {
  test('when the database is missing, then the workers fail at start-up and the gateway exits with their code instead of forking again', async () => {
    const gateway = spawnGateway({
      NODE_ENV: 'test',
      PORT: '0',
      WORKERS: '2',
      KLOUDLESS_API_URL: 'http://127.0.0.1:9/v1',
      KLOUDLESS_DEVELOPER_KEY: KEY,
      JWT_SECRET: TEST_SECRET,
      DATABASE_URL: `${SERVER_URL!.replace(/\/[^/]*$/, '')}/gw_workers_no_such_database`,
      AUDIT_HMAC_KEY: 'workers-audit-key-of-at-least-32-bytes',
      ...redisEnv('redis'),
    });
    expect(await gateway.exited).toBe(1);
    expect(gateway.stdout()).toMatch(/"msg":"a worker stopped during start-up; stopping the gateway"/);
    expect(gateway.stdout()).not.toMatch(/replacing it/);
    expect(gateway.stderr()).toMatch(/gw_workers_no_such_database/);
  }, 30_000);
});
