import { startHarness, type Harness } from '../helpers/harness';
import { rawRequest } from '../helpers/raw-request';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness();
  admin = tokenFor('admin');
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
beforeEach(() => h.simulator.clearRequests());

type Case = [
  label: string,
  method: 'get' | 'post' | 'patch' | 'delete',
  path: string,
  body: unknown,
  field: string | undefined,
  code: string,
];

const CASES: Case[] = [
  ['page_size 0', 'get', '/v1/applications?page_size=0', undefined, 'page_size', 'too_small'],
  ['page_size 1001', 'get', '/v1/applications?page_size=1001', undefined, 'page_size', 'too_big'],
  [
    'page_size not a number',
    'get',
    `/v1/applications/${APP}/webhooks?page_size=ten`,
    undefined,
    'page_size',
    'invalid_format',
  ],
  ['page 0', 'get', `/v1/applications/${APP}/apikeys?page=0`, undefined, 'page', 'too_small'],
  ['page negative', 'get', '/v1/applications?page=-1', undefined, 'page', 'invalid_format'],
  ['repeated page', 'get', '/v1/applications?page=1&page=2', undefined, 'page', 'invalid_type'],
  ['active yes', 'get', '/v1/applications?active=yes', undefined, 'active', 'invalid_union'],
  ['unknown query parameter', 'get', '/v1/applications?sort=name', undefined, 'sort', 'unknown_field'],
  ['query on a get', 'get', `/v1/applications/${APP}?expand=all`, undefined, 'expand', 'unknown_field'],
  ['create without name', 'post', '/v1/applications', { description: 'x' }, 'name', 'required'],
  ['create with blank name', 'post', '/v1/applications', { name: '   ' }, 'name', 'too_small'],
  [
    'create with events_grant_enabled',
    'post',
    '/v1/applications',
    { name: 'a', events_grant_enabled: true },
    'events_grant_enabled',
    'unknown_field',
  ],
  ['create with unknown field', 'post', '/v1/applications', { name: 'a', owner: 'me' }, 'owner', 'unknown_field'],
  [
    'create with a bad logo_url',
    'post',
    '/v1/applications',
    { name: 'a', logo_url: 'javascript:alert(1)' },
    'logo_url',
    'custom',
  ],
  ['create with a bad source', 'post', '/v1/applications', { name: 'a', source: '../x' }, 'source', 'invalid_format'],
  [
    'create with a string flag',
    'post',
    '/v1/applications',
    { name: 'a', recent_enabled: 'yes' },
    'recent_enabled',
    'invalid_union',
  ],
  ['update with source', 'patch', `/v1/applications/${APP}`, { source: APP }, 'source', 'unknown_field'],
  ['update with nothing', 'patch', `/v1/applications/${APP}`, {}, undefined, 'custom'],
  [
    'update with __proto__',
    'patch',
    `/v1/applications/${APP}`,
    JSON.parse('{"__proto__": {"admin": true}}'),
    '__proto__',
    'unknown_field',
  ],
  ['update with id', 'patch', `/v1/applications/${APP}`, { id: 'new' }, 'id', 'unknown_field'],
  ['body that is an array', 'patch', `/v1/applications/${APP}`, [{ name: 'a' }], undefined, 'invalid_type'],
  ['webhook without url', 'post', `/v1/applications/${APP}/webhooks`, {}, 'url', 'required'],
  ['webhook with a relative url', 'post', `/v1/applications/${APP}/webhooks`, { url: '/hook' }, 'url', 'custom'],
  [
    'webhook with an ftp url',
    'post',
    `/v1/applications/${APP}/webhooks`,
    { url: 'ftp://example.com/' },
    'url',
    'custom',
  ],
  ['api key create with a body', 'post', `/v1/applications/${APP}/apikeys`, { name: 'k' }, 'name', 'unknown_field'],
  ['encoded slash in an id', 'get', '/v1/applications/abc%2Fdef', undefined, 'application_id', 'invalid_id'],
  ['dot-dot id', 'get', '/v1/applications/..', undefined, 'application_id', 'invalid_id'],
  ['encoded dot-dot id', 'delete', `/v1/applications/${APP}/webhooks/%2e%2e`, undefined, 'webhook_id', 'invalid_id'],
  [
    'double-encoded slash in a key',
    'delete',
    `/v1/applications/${APP}/apikeys/a%252Fb`,
    undefined,
    'apikey_key',
    'invalid_id',
  ],
];

test.each(CASES)(
  'when the request has %s, then it is refused with validation_failed and never forwarded',
  async (_label, method, path, body, field, code) => {
    const req = h.api()[method](path).set('Authorization', `Bearer ${admin}`);
    const res = body === undefined ? await req : await req.send(body as object);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.request_id).toBe(res.headers['x-request-id']);
    const detail = res.body.error.details.find((d: { field?: string }) => d.field === field);
    expect(detail ?? res.body.error.details[0]).toMatchObject({ code });
    expect(h.simulator.requests).toHaveLength(0);
  },
);

test('when a create names events_grant_enabled, then the error says the attribute is events_enabled', async () => {
  const res = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${admin}`)
    .send({ name: 'a', events_grant_enabled: true });
  expect(res.body.error.details[0].message).toMatch(/events_enabled/);
});

test('when several fields are wrong, then every problem is reported at once', async () => {
  const res = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${admin}`)
    .send({ logo_url: 'nope', extra: 1 });
  const fields = res.body.error.details.map((d: { field: string }) => d.field).sort();
  expect(fields).toEqual(['extra', 'logo_url', 'name']);
});

describe('bodies', () => {
  test('when a body is not JSON, then 415 unsupported_media_type and nothing forwarded', async () => {
    const res = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', 'text/plain')
      .send('name=a');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('when a JSON body does not parse, then 400 invalid_json', async () => {
    const res = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  test('when a body is larger than BODY_LIMIT, then 413 payload_too_large', async () => {
    const res = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'a', description: 'x'.repeat(200 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('when a body holds invalid UTF-8, then it is refused rather than silently repaired', async () => {
    const bytes = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await rawRequest(
      h.gatewayUrl,
      'POST',
      '/v1/applications',
      [
        ['Authorization', `Bearer ${admin}`],
        ['Content-Type', 'application/json'],
      ],
      bytes,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.details[0].reason).toBe('invalid_utf8');
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('when a GET carries a body, then it is refused', async () => {
    const res = await h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', 'application/json')
      .send('{"a":1}');
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].code).toBe('unexpected_body');
  });

  test('when an API key is created with an empty body or {}, then both are forwarded', async () => {
    expect((await h.api().post(`/v1/applications/${APP}/apikeys`).set('Authorization', `Bearer ${admin}`)).status).toBe(
      201,
    );
    expect(
      (await h.api().post(`/v1/applications/${APP}/apikeys/`).set('Authorization', `Bearer ${admin}`).send({})).status,
    ).toBe(201);
    expect(h.simulator.requests).toHaveLength(2);
  });

  test('when flags are spelled True/False as in the reference, then they are forwarded as JSON booleans', async () => {
    const res = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'Flags', implicit_grant_enabled: 'True', recent_enabled: 'false' });
    expect(res.status).toBe(201);
    expect(h.simulator.requests[0]?.body).toEqual({
      name: 'Flags',
      implicit_grant_enabled: true,
      recent_enabled: false,
    });
  });
});

describe('routing', () => {
  test.each([['/v1/accounts'], ['/v1/applications/x/y/z'], ['/v1//applications'], ['/v2/applications'], ['/admin']])(
    'when %s is requested, then 404 not_found and nothing forwarded',
    async (path) => {
      const res = await h.api().get(path).set('Authorization', `Bearer ${admin}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(h.simulator.requests).toHaveLength(0);
    },
  );

  test('when a catalogued path is called with the wrong method, then 405 with Allow', async () => {
    const res = await h
      .api()
      .put(`/v1/applications/${APP}`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'x' });
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe('method_not_allowed');
    expect(res.headers.allow).toBe('GET, PATCH, DELETE');
    expect(h.simulator.requests).toHaveLength(0);
  });
});
