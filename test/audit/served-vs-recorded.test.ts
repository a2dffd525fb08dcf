import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { rawRequest } from '../helpers/raw-request';
import { tokenFor } from '../helpers/tokens';

/**
 * Issue 18, finding 6: what the trail records is what was served. A request target with a fragment was served
 * for the path before the `#` but recorded with everything after it (naming another resource); a client's
 * X-Request-Id was recorded as the request id, so a client could put its change beside another's under one id.
 */

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const OTHER = 'koiR3oGDpX8AhsK3ysPCzq';
let h: Harness;
let admin: string;
let auditor: string;
beforeAll(async () => {
  h = await startHarness();
  admin = tokenFor('admin', 'ada');
  auditor = tokenFor('auditor', 'rita');
});
afterAll(async () => h.close());

const events = async (query: string) => {
  const res = await h.api().get(`/v1/audit/events?${query}`).set('Authorization', `Bearer ${auditor}`);
  expect(res.status).toBe(200);
  return res.body.events as Record<string, unknown>[];
};

test("when a mutation's request target has a fragment, then 400 and nothing is forwarded, and the decision entry's path has no fragment", async () => {
  const before = h.simulator.requests.length;
  const res = await rawRequest(
    h.gatewayUrl,
    'POST',
    `/v1/applications/${APP}/webhooks#/../../${OTHER}/webhooks`,
    [
      ['Authorization', `Bearer ${admin}`],
      ['Content-Type', 'application/json'],
    ],
    Buffer.from(JSON.stringify({ url: 'https://hooks.example.com/frag' })),
  );
  expect(res.status).toBe(400);
  expect(JSON.parse(res.text).error).toMatchObject({
    code: 'validation_failed',
    details: [{ location: 'path', code: 'fragment_in_target' }],
  });
  expect(h.simulator.requests.length).toBe(before);
  const [entry] = (await allEntries(h)).filter((e) => e.requestId === res.headers['x-request-id']);
  expect(entry).toMatchObject({ kind: 'decision', outcome: 'invalid', path: `/v1/applications/${APP}/webhooks` });
});

test("when a read's request target has a fragment, then 400 and nothing is forwarded", async () => {
  const before = h.simulator.requests.length;
  const res = await rawRequest(h.gatewayUrl, 'GET', `/v1/applications/${APP}#/../${OTHER}`, [
    ['Authorization', `Bearer ${admin}`],
  ]);
  expect(res.status).toBe(400);
  expect(h.simulator.requests.length).toBe(before);
});

test("when an audit read's target has a fragment, then the access entry records the path without it", async () => {
  const res = await rawRequest(h.gatewayUrl, 'GET', '/v1/audit/events#/../../applications/x', [
    ['Authorization', `Bearer ${auditor}`],
  ]);
  expect(res.status).toBe(200);
  const entry = (await allEntries(h)).at(-1)!;
  expect(entry).toMatchObject({ kind: 'access', operation: 'audit.query', path: '/v1/audit/events' });
});

test("when two clients send the same X-Request-Id, then each change has its own request_id, and the client's id is kept as client_request_id", async () => {
  const send = (name: string) =>
    h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('X-Request-Id', 'borrowed-request-id-1')
      .send({ name });
  const [first, second] = [await send('first'), await send('second')];
  expect([first.status, second.status]).toEqual([201, 201]);
  const ids = [first.headers['x-request-id'], second.headers['x-request-id']];
  expect(ids[0]).not.toBe(ids[1]);
  expect(ids).not.toContain('borrowed-request-id-1');

  expect(await events('request_id=borrowed-request-id-1')).toEqual([]);
  const [event] = await events(`request_id=${ids[1]}`);
  expect(event).toMatchObject({
    request_id: ids[1],
    client_request_id: 'borrowed-request-id-1',
    operation: 'applications.create',
  });
  const entries = (await allEntries(h)).filter((e) => e.clientRequestId === 'borrowed-request-id-1');
  expect(entries.map((e) => [e.kind, e.requestId])).toEqual([
    ['request', ids[0]],
    ['response', ids[0]],
    ['request', ids[1]],
    ['response', ids[1]],
  ]);
});

test('when a client sends no X-Request-Id, then client_request_id is null and the entry hashes as before the column existed', async () => {
  const res = await h.api().post('/v1/applications').set('Authorization', `Bearer ${admin}`).send({ name: 'no id' });
  const entries = (await allEntries(h)).filter((e) => e.requestId === res.headers['x-request-id']);
  expect(entries.map((e) => e.clientRequestId)).toEqual([null, null]);
  const verified = await h.api().get('/v1/audit/verify').set('Authorization', `Bearer ${auditor}`);
  expect(verified.body.ok).toBe(true);
});
