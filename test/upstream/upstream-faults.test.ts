import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness({ env: { UPSTREAM_TIMEOUT_MS: '300', UPSTREAM_MAX_RESPONSE_BYTES: '65536' } });
  admin = tokenFor('admin');
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
beforeEach(() => {
  h.simulator.setFault(null);
  h.simulator.clearRequests();
});

const get = (path = '/v1/applications') => h.api().get(path).set('Authorization', `Bearer ${admin}`);

test('when the upstream is slower than UPSTREAM_TIMEOUT_MS, then 504 upstream_timeout', async () => {
  h.simulator.setFault({ kind: 'delay', ms: 1000, times: 1 });
  const res = await get();
  expect(res.status).toBe(504);
  expect(res.body.error).toMatchObject({ code: 'upstream_timeout', details: [{ reason: 'deadline_exceeded' }] });
});

test('when the upstream resets the connection, then 502 upstream_unavailable', async () => {
  h.simulator.setFault({ kind: 'reset' });
  const res = await get();
  expect(res.status).toBe(502);
  expect(res.body.error).toMatchObject({ code: 'upstream_unavailable', details: [{ reason: 'connection_reset' }] });
});

test('when a GET meets one reset connection, then it is retried once and succeeds', async () => {
  h.simulator.setFault({ kind: 'reset', times: 1 });
  const res = await get();
  expect(res.status).toBe(200);
  expect(h.simulator.requests).toHaveLength(2);
});

test('when a mutation meets a reset connection, then it is never retried', async () => {
  h.simulator.setFault({ kind: 'reset', times: 1 });
  const res = await h
    .api()
    .post(`/v1/applications/${APP}/webhooks`)
    .set('Authorization', `Bearer ${admin}`)
    .send({ url: 'https://example.com/h' });
  expect(res.status).toBe(502);
  expect(h.simulator.requests).toHaveLength(1);
});

test('when the upstream body is larger than UPSTREAM_MAX_RESPONSE_BYTES, then 502 upstream_bad_response', async () => {
  h.simulator.setFault({ kind: 'oversized', bytes: 200_000 });
  const res = await get();
  expect(res.status).toBe(502);
  expect(res.body.error).toMatchObject({ code: 'upstream_bad_response', details: [{ reason: 'response_too_large' }] });
});

test('when the upstream answers 5xx, then status and body pass through unchanged', async () => {
  h.simulator.setFault({
    kind: 'status',
    status: 503,
    body: { status_code: 503, error_code: 'service_unavailable', message: 'down' },
  });
  const res = await get();
  expect(res.status).toBe(503);
  expect(res.body).toEqual({ status_code: 503, error_code: 'service_unavailable', message: 'down' });
});

test('when the upstream sets a cookie, then it does not reach the client', async () => {
  h.simulator.setFault({
    kind: 'status',
    status: 200,
    body: { ok: 1 },
    headers: { 'set-cookie': 'upstream=1', 'x-internal': 'y' },
  });
  const res = await get();
  expect(res.headers['set-cookie']).toBeUndefined();
  expect(res.headers['x-internal']).toBeUndefined();
});

describe('redirects', () => {
  let elsewhere: Server;
  let elsewhereUrl: string;
  const seenElsewhere: Record<string, unknown>[] = [];
  beforeAll(async () => {
    elsewhere = createServer((req, res) => {
      seenElsewhere.push({ ...req.headers });
      res.setHeader('content-type', 'application/json').end('{"stolen":true}');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    elsewhereUrl = `http://localhost:${(elsewhere.address() as AddressInfo).port}/collect`;
  });
  afterAll(() => elsewhere.close());

  test('when the upstream redirects to another origin, then 502 and the key is never sent there', async () => {
    h.simulator.setFault({ kind: 'redirect', status: 302, location: elsewhereUrl });
    const res = await get();
    expect(res.status).toBe(502);
    expect(res.body.error.details[0].reason).toBe('cross_origin_redirect');
    expect(seenElsewhere).toHaveLength(0);
  });

  test('when the upstream redirects a GET within its own origin, then the gateway follows it with the key', async () => {
    h.simulator.setFault({ kind: 'redirect', status: 301, location: `/v1/applications/${APP}/`, times: 1 });
    const res = await get('/v1/applications');
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(APP);
    expect(h.simulator.requests.map((r) => r.path)).toEqual(['/v1/applications/', `/v1/applications/${APP}/`]);
    expect(h.simulator.requests[1]?.headers.authorization).toMatch(/^DeveloperKey /);
  });

  test('when the upstream redirects a POST with 302, then it is not replayed as a GET', async () => {
    h.simulator.setFault({ kind: 'redirect', status: 302, location: '/v1/applications/', times: 1 });
    const res = await h.api().post('/v1/applications').set('Authorization', `Bearer ${admin}`).send({ name: 'x' });
    expect(res.status).toBe(502);
    expect(res.body.error.details[0].reason).toBe('redirected_mutation');
    expect(h.simulator.requests).toHaveLength(1);
  });

  test('when the upstream redirects in a loop, then 502 too_many_redirects', async () => {
    h.simulator.setFault({ kind: 'redirect', status: 307, location: '/v1/applications/' });
    const res = await get();
    expect(res.status).toBe(502);
    expect(res.body.error.details[0].reason).toBe('too_many_redirects');
    expect(h.simulator.requests.length).toBe(4);
  });
});

describe('when the upstream is down', () => {
  test('then 502 upstream_unavailable (connection refused) and /readyz reports it', async () => {
    const port = (await h.simulator.close(), new URL(h.simulator.url).port);
    const res = await get();
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'upstream_unavailable', details: [{ reason: 'connection_refused' }] });
    const ready = await h.api().get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toContainEqual(expect.objectContaining({ name: 'upstream', ok: false }));
    await h.simulator.listen(Number(port), '127.0.0.1');
  });
});
