import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startMetricsServer } from '../../src/metrics/server';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { inFlight } from '../helpers/async';

let h: Harness;
let metrics: Awaited<ReturnType<typeof startMetricsServer>>;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_READS: '2' } });
  metrics = await startMetricsServer(h.gateway.metrics.registry, '127.0.0.1', 0);
});
afterAll(async () => {
  await metrics.stop();
  await h.close();
});

const scrape = async () => (await fetch(metrics.url)).text();
const value = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}"()+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

test('when requests are served, refused and forwarded, then /metrics on its own port counts them by operation, status and reason', async () => {
  const viewer = tokenFor('viewer', 'metered');
  await h.api().get('/v1/applications').set('Authorization', `Bearer ${viewer}`);
  await h.api().get('/v1/applications').set('Authorization', `Bearer ${viewer}`);
  await h.api().get('/v1/applications').set('Authorization', `Bearer ${viewer}`); // 429
  await h.api().get('/v1/applications').set('Authorization', 'Bearer not.a.jwt');
  await h
    .api()
    .post('/v1/applications/wSPk9y5D7p5o87k0ACGKxR/webhooks')
    .set('Authorization', `Bearer ${tokenFor('admin')}`)
    .send({ url: 'https://hooks.example.com/m' });
  const text = await scrape();
  expect(value(text, 'gateway_requests_total{operation="applications.list",status="200"}')).toBe(2);
  expect(value(text, 'gateway_requests_total{operation="applications.list",status="429"}')).toBe(1);
  expect(value(text, 'gateway_rate_limit_rejections_total{budget="reads"}')).toBe(1);
  expect(value(text, 'gateway_auth_failures_total{reason="malformed"}')).toBe(1);
  expect(value(text, 'gateway_upstream_duration_seconds_count{operation="webhooks.create",status_class="2xx"}')).toBe(
    1,
  );
  expect(value(text, 'gateway_audit_write_duration_seconds_count{kind="request"}')).toBeGreaterThanOrEqual(1);
  expect(value(text, 'gateway_audit_write_duration_seconds_count{kind="response"}')).toBeGreaterThanOrEqual(1);
  expect(text).toMatch(/^gateway_process_resident_memory_bytes \d+/m);
});

test('when the API port is asked for /metrics, then it is not there', async () => {
  const res = await h.api().get('/metrics');
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe('not_found');
});

test('when metrics are scraped, then no label carries a raw path, id or token', async () => {
  await h
    .api()
    .get('/v1/applications/wSPk9y5D7p5o87k0ACGKxR')
    .set('Authorization', `Bearer ${tokenFor('admin')}`);
  await h
    .api()
    .get('/v1/nope/123')
    .set('Authorization', `Bearer ${tokenFor('admin')}`);
  const text = await scrape();
  expect(text).not.toContain('wSPk9y5D7p5o87k0ACGKxR');
  expect(text).not.toContain('/v1/nope');
  expect(text).toContain('gateway_requests_total{operation="other",status="404"}');
});

describe('when 10,000 unauthenticated requests each name a different junk path', () => {
  /** Every series of the gateway's own metrics (process metrics left out: they do not depend on requests). */
  const seriesOf = async () =>
    (await h.gateway.metrics.registry.getMetricsAsJSON())
      .filter((m) => !m.name.startsWith('gateway_process_') && !m.name.startsWith('gateway_nodejs_'))
      .flatMap((m) => m.values.map((v) => `${m.name}${JSON.stringify(v.labels)}`))
      .sort();
  const word = (i: number) => i.toString(26).replace(/[0-9]/g, (d) => 'qrstuvwxyz'[Number(d)]!);
  // Mostly the example; every fifth, another kind of path a label could once be cut from.
  const kinds = [
    (w: string) => `/v1/audit/${w}`,
    (w: string) => `/v1/${w}/x`,
    (w: string) => `/console/${w}`,
    (w: string) => `/v1/audit/events/${w}`,
    (w: string) => `/${w}`,
  ];
  const junkPath = (i: number) => kinds[i % 5 === 4 ? 1 + (Math.floor(i / 5) % 4) : 0]!(word(i));
  const flood = (from: number, count: number) =>
    inFlight(count, 16, async (i) => (await fetch(`${h.gatewayUrl}${junkPath(from + i)}`)).arrayBuffer());

  /**
   * The heap still in use after a full collection. The gateway runs in this process, whose RSS moves with the
   * collector's whims; what the junk must not do is leave anything behind.
   */
  const retainedHeap = () => {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    return process.memoryUsage().heapUsed;
  };

  test('then the metrics have exactly the series they had before, and the retained memory stays flat', async () => {
    // Warm up first (every kind of path, and the code paths the collector counts too), then measure.
    await flood(100_000, 1_000);
    h.logs.lines.length = 0; // the test's own copy of the request log is not the gateway's memory
    const before = await seriesOf();
    const heapBefore = retainedHeap();
    await flood(0, 10_000);
    h.logs.lines.length = 0;
    const grownMb = (retainedHeap() - heapBefore) / 2 ** 20;
    const after = await seriesOf();
    const added = after.filter((s) => !before.includes(s));
    expect({ added: added.length, firstAdded: added.slice(0, 3) }).toEqual({ added: 0, firstAdded: [] });
    // About 7 MB with labels cut from the path, about 2 MB (sockets, compiled code) without.
    expect(grownMb).toBeLessThan(4);
  }, 120_000); // 11,000 requests: about 40 s on a quiet machine, twice that when it is shared
});

test('when the Management API refuses the DeveloperKey (401), then gateway_upstream_unauthorized_total counts it, and /readyz leaves its findings in gateway_readiness_check', async () => {
  const before = value(await scrape(), 'gateway_upstream_unauthorized_total');
  h.simulator.setFault({ kind: 'status', status: 401, times: 1 });
  const refused = await h
    .api()
    .post('/v1/applications/wSPk9y5D7p5o87k0ACGKxR/webhooks')
    .set('Authorization', `Bearer ${tokenFor('admin')}`)
    .send({ url: 'https://hooks.example.com/dk-401' });
  expect(refused.status).toBe(401);
  expect(value(await scrape(), 'gateway_upstream_unauthorized_total')).toBe((Number.isNaN(before) ? 0 : before) + 1);
  expect((await h.api().get('/readyz')).status).toBe(200);
  const text = await scrape();
  expect(value(text, 'gateway_readiness_check{check="upstream"}')).toBe(1);
  expect(value(text, 'gateway_readiness_check{check="ready"}')).toBe(1);
});
