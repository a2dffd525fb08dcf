import { startMetricsServer } from '../../src/metrics/server';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

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
const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"()+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

test('when requests are served, refused and forwarded, then /metrics on its own port counts them by operation, status and reason', async () => {
  const viewer = tokenFor('viewer', 'metered');
  await h.api().get('/v1/applications').set('Authorization', `Bearer ${viewer}`);
  await h.api().get('/v1/applications').set('Authorization', `Bearer ${viewer}`);
  await h.api().get('/v1/applications').set('Authorization', `Bearer ${viewer}`); // 429
  await h.api().get('/v1/applications').set('Authorization', 'Bearer not.a.jwt');
  await h.api().post('/v1/applications/wSPk9y5D7p5o87k0ACGKxR/webhooks').set('Authorization', `Bearer ${tokenFor('admin')}`).send({ url: 'https://hooks.example.com/m' });
  const text = await scrape();
  expect(value(text, 'gateway_requests_total{operation="applications.list",status="200"}')).toBe(2);
  expect(value(text, 'gateway_requests_total{operation="applications.list",status="429"}')).toBe(1);
  expect(value(text, 'gateway_rate_limit_rejections_total{budget="reads"}')).toBe(1);
  expect(value(text, 'gateway_auth_failures_total{reason="malformed"}')).toBe(1);
  expect(value(text, 'gateway_upstream_duration_seconds_count{operation="webhooks.create",status_class="2xx"}')).toBe(1);
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
  await h.api().get('/v1/applications/wSPk9y5D7p5o87k0ACGKxR').set('Authorization', `Bearer ${tokenFor('admin')}`);
  await h.api().get('/v1/nope/123').set('Authorization', `Bearer ${tokenFor('admin')}`);
  const text = await scrape();
  expect(text).not.toContain('wSPk9y5D7p5o87k0ACGKxR');
  expect(text).not.toContain('/v1/nope');
  expect(text).toContain('gateway_requests_total{operation="other",status="404"}');
});
