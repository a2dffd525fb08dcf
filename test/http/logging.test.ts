import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});

test('when a request is served, then exactly one structured line records id, caller, operation, status and latency', async () => {
  const res = await h
    .api()
    .get('/v1/applications?page_size=2')
    .set('Authorization', `Bearer ${tokenFor('viewer', 'vera')}`);
  const lines = h.logs
    .entries()
    .filter((e) => (e.req as { id?: string } | undefined)?.id === res.headers['x-request-id']);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    level: 30,
    msg: 'request completed',
    sub: 'vera',
    operation: 'applications.list',
    decision: 'role_grants_permission',
    req: { method: 'GET', path: '/v1/applications' },
    res: { status: 200 },
  });
  expect(typeof lines[0]!.responseTime).toBe('number');
  expect(JSON.stringify(lines[0])).not.toMatch(/authorization|headers/i);
});

test('when a request is refused, then its line carries the error code and reason', async () => {
  const res = await h
    .api()
    .delete(`/v1/applications/${APP}`)
    .set('Authorization', `Bearer ${tokenFor('viewer')}`);
  expect(h.logs.requestLine(res.headers['x-request-id'] as string)).toMatchObject({
    operation: 'applications.delete',
    error_code: 'forbidden',
    error_reason: 'no_role_grants_permission',
    res: { status: 403 },
  });
});

test('when an API key value is in the path, then the log shows only its last 4 characters', async () => {
  const created = await h
    .api()
    .post(`/v1/applications/${APP}/apikeys`)
    .set('Authorization', `Bearer ${tokenFor('admin')}`);
  const key = created.body.key as string;
  const res = await h
    .api()
    .delete(`/v1/applications/${APP}/apikeys/${key}`)
    .set('Authorization', `Bearer ${tokenFor('admin')}`);
  const line = h.logs.requestLine(res.headers['x-request-id'] as string);
  expect((line?.req as { path: string }).path).toBe(`/v1/applications/${APP}/apikeys/****${key.slice(-4)}`);
  expect(h.logs.lines.join('\n')).not.toContain(key);
});

test('when a token is pasted into the query string, then it is never logged', async () => {
  const token = tokenFor('admin');
  await h.api().get(`/v1/applications?access_token=${token}`);
  expect(h.logs.lines.join('\n')).not.toContain(token);
});

test('when health probes are answered, then they are not logged', async () => {
  const before = h.logs.lines.length;
  await h.api().get('/healthz');
  expect(h.logs.lines.length).toBe(before);
});
