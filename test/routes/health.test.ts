import { startHarness, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

test('when /healthz is called without a token, then 200 ok', async () => {
  const res = await h.api().get('/healthz');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ status: 'ok' });
});

test('when the upstream accepts connections, then /readyz is 200 with each check', async () => {
  const res = await h.api().get('/readyz');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    status: 'ready',
    checks: [
      { name: 'upstream', ok: true, critical: true },
      { name: 'audit_store', ok: true, critical: false },
    ],
  });
});

test('when the gateway is draining, then /readyz is 503 so the load balancer stops sending traffic', async () => {
  h.deps.lifecycle!.draining = true;
  const res = await h.api().get('/readyz');
  h.deps.lifecycle!.draining = false;
  expect(res.status).toBe(503);
  expect(res.body.status).toBe('draining');
});

test('when a path outside the API is requested, then 404 in the envelope with security headers', async () => {
  const res = await h.api().get('/nothing-here');
  expect(res.status).toBe(404);
  expect(res.body).toEqual({
    error: { code: 'not_found', message: 'No such operation.', request_id: res.headers['x-request-id'], details: [] },
  });
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-powered-by']).toBeUndefined();
});
