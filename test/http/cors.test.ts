import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { CORS_ORIGINS: 'https://console.example.com' } });
});
afterAll(async () => h.close());

test('when an allowed origin preflights, then it may send Authorization and read X-Request-Id', async () => {
  const res = await h
    .api()
    .options('/v1/applications')
    .set('Origin', 'https://console.example.com')
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'authorization,content-type');
  expect(res.status).toBe(204);
  expect(res.headers['access-control-allow-origin']).toBe('https://console.example.com');
  expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
  expect(h.simulator.requests).toHaveLength(0);
});

test('when another origin calls, then no CORS grant is made', async () => {
  const res = await h
    .api()
    .get('/v1/applications')
    .set('Origin', 'https://evil.example.com')
    .set('Authorization', `Bearer ${tokenFor('viewer')}`);
  expect(res.headers['access-control-allow-origin']).toBeUndefined();
});

test('when an allowed origin calls, then the response exposes the request id header', async () => {
  const res = await h
    .api()
    .get('/v1/applications')
    .set('Origin', 'https://console.example.com')
    .set('Authorization', `Bearer ${tokenFor('viewer')}`);
  expect(res.headers['access-control-allow-origin']).toBe('https://console.example.com');
  expect(res.headers['access-control-expose-headers']).toMatch(/X-Request-Id/);
});
