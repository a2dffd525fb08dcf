import { entriesFor } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { REDIS_URL, redisEnv } from '../helpers/redis';
import { TcpProxy } from '../helpers/tcp-proxy';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
// Shared counters are Redis; CI always has one.
const describeWithRedis = REDIS_URL ? describe : describe.skip;

describeWithRedis('counters shared by two instances through Redis', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    const env = { ...redisEnv('redis'), RATE_LIMIT_READS: '4', UPSTREAM_RATE_LIMIT: '5' };
    [a, b] = await Promise.all([startHarness({ env }), startHarness({ env })]);
  }, 30_000);
  afterAll(async () => Promise.all([a.close(), b.close()]));

  test('when one person alternates between instances, then the limit holds across both', async () => {
    const token = tokenFor('viewer', 'roaming');
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await (i % 2 ? b : a).api().get('/v1/applications').set('Authorization', `Bearer ${token}`)).status,
      );
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses.slice(4)).toEqual([429, 429]);
  });

  test('when many people call at once through both instances, then the upstream never gets more than the shared budget', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // a fresh one-second budget window
    a.simulator.clearRequests();
    b.simulator.clearRequests();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? b : a)
          .api()
          .get(`/v1/applications/${APP}`)
          .set('Authorization', `Bearer ${tokenFor('viewer', `crowd-${i}`)}`),
      ),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const forwarded = a.simulator.requests.length + b.simulator.requests.length;
    const ok = results.filter((r) => r.status === 200).length;
    expect(forwarded).toBe(ok);
    expect(forwarded).toBeLessThanOrEqual(5 * Math.ceil(elapsedS + 1));
    expect(forwarded).toBeGreaterThanOrEqual(5);
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBe(24 - ok);
    expect(limited[0]?.body.error.details[0].reason).toBe('upstream_budget_exhausted');
  });
});

describeWithRedis('failed authentications counted through Redis', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    const env = { ...redisEnv('redis'), RATE_LIMIT_UNAUTHENTICATED: '3' };
    [a, b] = await Promise.all([startHarness({ env }), startHarness({ env })]);
  }, 30_000);
  afterAll(async () => Promise.all([a.close(), b.close()]));

  test('when one address guesses through both instances, then its budget is one budget, and valid tokens neither spend it nor are refused by it', async () => {
    const get = (h: Harness, authorization: string) =>
      h.api().get('/v1/applications').set('Authorization', authorization);
    for (let i = 0; i < 4; i++)
      expect((await get(i % 2 ? b : a, `Bearer ${tokenFor('viewer', 'good')}`)).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(i % 2 ? b : a, 'Bearer not.a.token')).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await get(a, 'Bearer not.a.token');
    expect(limited.status).toBe(429);
    expect(limited.body.error.details[0].reason).toBe('unauthenticated_budget_exhausted');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(b, `Bearer ${tokenFor('viewer', 'good')}`)).status).toBe(200);
  });
});

describeWithRedis('when Redis goes away mid-run', () => {
  let proxy: TcpProxy;
  let h: Harness;
  beforeAll(async () => {
    const target = new URL(REDIS_URL!);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.start();
    h = await startHarness({ env: { ...redisEnv('redis'), REDIS_URL: `redis://127.0.0.1:${proxy.port}` } });
  }, 30_000);
  afterAll(async () => {
    await h.close();
    await proxy.stop();
  });

  const read = () =>
    h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${tokenFor('admin', 'ops')}`);
  const write = () =>
    h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('admin', 'ops')}`)
      .send({ url: 'https://hooks.example.com/redis' });

  test('then reads pass unmetered, mutations are refused (503) and recorded, and both recover when it returns', async () => {
    expect((await read()).status).toBe(200);
    await proxy.stop();
    h.simulator.clearRequests();
    expect((await read()).status).toBe(200);
    const refused = await write();
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'rate_limit_unavailable' });
    expect(h.simulator.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(await entriesFor(h, refused.headers['x-request-id'] as string)).toEqual([
      expect.objectContaining({ kind: 'decision', outcome: 'not_forwarded', errorCode: 'rate_limit_unavailable' }),
    ]);
    const ready = await h.api().get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toContainEqual(
      expect.objectContaining({ name: 'rate_limit_store', ok: false, critical: false }),
    );

    await proxy.start();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && (status = (await write()).status) !== 201)
      await new Promise((r) => setTimeout(r, 200));
    expect(status).toBe(201);
  }, 20_000);
});
