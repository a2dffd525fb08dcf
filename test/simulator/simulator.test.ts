import { request as httpRequest, Agent } from 'node:http';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server';
import { jsonOfSize } from '../../src/simulator/faults';
import { formatTimestamp } from '../../src/simulator/store';

const KEY = 'dk-sim-test-0123456789';
const APP1 = 'wSPk9y5D7p5o87k0ACGKxR';
const APP2 = 'osM_FF6fIWXmCLDfWVRX';
const APP3 = 'koiR71rFLPTdld9N-YUR';
const SEEDED_KEY = '80OdF5hXzkNqEs9DHRkiA1EXz1pbF4';
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

let sim: Simulator | undefined;
let origin: string;

async function start(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  sim = createSimulator({ developerKey: KEY, seed: true, ...options });
  origin = new URL(await sim.listen()).origin;
  return sim;
}

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions read the answer as loose JSON
  json: any;
}

interface CallOptions {
  body?: unknown;
  raw?: string;
  /** null: no Authorization header. */
  auth?: string | null;
}

async function call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.auth !== null) headers.authorization = options.auth ?? `DeveloperKey ${KEY}`;
  const body = options.body === undefined ? options.raw : JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${origin}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const createApp = async (body: Record<string, unknown>) => {
  const res = await call('POST', '/v1/applications', { body });
  expect(res.status).toBe(201);
  return res.json as { id: string } & Record<string, unknown>;
};

function expectError(res: Reply, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.json).toEqual({
    status_code: status,
    error_code: code,
    message: expect.any(String),
    id: expect.any(String),
  });
  expect(res.json.message.length).toBeGreaterThan(0);
}

describe('lifecycle', () => {
  test('when listening on port 0, then the base URL ends in /v1 and url matches it', async () => {
    const s = createSimulator({ developerKey: KEY });
    sim = s;
    expect(() => s.url).toThrow(/not listening/);
    const url = await s.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(s.url).toBe(url);
  });

  test('when a client keeps its connection alive, then requests share one socket and close() still returns promptly', async () => {
    await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; port: number }>((resolve, reject) => {
        const req = httpRequest(
          `${origin}/v1/applications`,
          { agent, headers: { authorization: `DeveloperKey ${KEY}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, port: req.socket?.localPort ?? -1 }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const first = await get();
    const second = await get();
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.port).toBe(first.port);
    const started = Date.now();
    await sim?.close();
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
  });

  test('when closed and listened again on the same port, then it answers again', async () => {
    const s = await start();
    const port = Number(new URL(s.url).port);
    await s.close();
    await expect(fetch(`${origin}/v1/applications`)).rejects.toThrow();
    await s.listen(port);
    expect((await call('GET', '/v1/applications')).status).toBe(200);
  });
});

describe('authentication', () => {
  test.each([
    ['no Authorization header', null],
    ['a wrong DeveloperKey', 'DeveloperKey not-the-key'],
    ['the right key under another scheme', `Bearer ${KEY}`],
    ['the scheme with no key', 'DeveloperKey'],
    ['the key with trailing junk', `DeveloperKey ${KEY} extra`],
  ])('when a request carries %s, then 401 unauthorized with the error body', async (_label, auth) => {
    await start();
    const res = await call('GET', '/v1/applications', { auth });
    expectError(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('DeveloperKey');
  });

  test('when the scheme is written in lower case, then the key is accepted', async () => {
    await start();
    expect((await call('GET', '/v1/applications', { auth: `developerkey ${KEY}` })).status).toBe(200);
  });

  test('when the key is wrong on an unknown path or method, then 401 comes before 404 and 405', async () => {
    await start();
    expectError(await call('GET', '/v1/nothing', { auth: 'DeveloperKey x' }), 401, 'unauthorized');
    expectError(await call('PUT', '/v1/applications', { auth: 'DeveloperKey x' }), 401, 'unauthorized');
  });
});

describe('list applications', () => {
  test('when seeded, then the three reference applications are listed in creation order', async () => {
    await start();
    const res = await call('GET', '/v1/applications');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json).toMatchObject({ total: 3, count: 3, page: 1 });
    expect(res.json.objects.map((a: { id: string }) => a.id)).toEqual([APP1, APP2, APP3]);
    expect(res.json.objects[0]).toEqual({
      id: APP1,
      name: 'Test App 1',
      description: 'A test application.',
      logo_url: '',
      active: true,
      implicit_grant_enabled: false,
      recent_enabled: false,
      events_enabled: false,
      created: '2014-03-18T03:57:16.770685Z',
      modified: '2014-06-26T04:13:45.439534Z',
    });
  });

  test('when not seeded, then the list is empty', async () => {
    await start({ seed: false });
    expect((await call('GET', '/v1/applications')).json).toEqual({ total: 0, count: 0, page: 1, objects: [] });
  });

  test.each([
    ['page_size=2', 3, 2, 1, [APP1, APP2]],
    ['page_size=2&page=2', 3, 1, 2, [APP3]],
    ['page_size=1&page=3', 3, 1, 3, [APP3]],
    ['page_size=1000', 3, 3, 1, [APP1, APP2, APP3]],
    ['page=2', 3, 0, 2, []],
    ['page_size=2&page=99', 3, 0, 99, []],
  ])('when paginating with %s, then total %i, count %i, page %i', async (query, total, count, page, ids) => {
    await start();
    const res = await call('GET', `/v1/applications?${query}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ total, count, page });
    expect(res.json.objects.map((a: { id: string }) => a.id)).toEqual(ids);
  });

  test.each([
    'page_size=0',
    'page_size=1001',
    'page_size=abc',
    'page_size=-1',
    'page_size=1.5',
    'page_size=',
    'page=0',
    'page=-2',
    'page=x',
    'page=99999999999999999999',
  ])('when the query is %s, then 400 bad_request', async (query) => {
    await start();
    expectError(await call('GET', `/v1/applications?${query}`), 400, 'bad_request');
  });

  test.each([
    ['true', ['live']],
    ['True', ['live']],
    ['false', ['dormant']],
    ['False', ['dormant']],
  ])('when filtering with active=%s, then only matching applications are listed', async (active, names) => {
    await start({ seed: false });
    await createApp({ name: 'live' });
    const dormant = await createApp({ name: 'dormant' });
    expect((await call('PATCH', `/v1/applications/${dormant.id}`, { body: { active: false } })).status).toBe(200);
    const res = await call('GET', `/v1/applications?active=${active}`);
    expect(res.json.objects.map((a: { name: string }) => a.name)).toEqual(names);
    expect(res.json.total).toBe(names.length);
  });

  test('when active is neither true nor false, then 400 bad_request', async () => {
    await start();
    expectError(await call('GET', '/v1/applications?active=yes'), 400, 'bad_request');
  });
});

describe('create an application', () => {
  test('when only a name is given, then 201 with the defaults, a 22-character id and equal timestamps', async () => {
    await start({ seed: false });
    const res = await call('POST', '/v1/applications/', { body: { name: 'Test App 1' } });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      name: 'Test App 1',
      description: '',
      logo_url: '',
      active: true,
      implicit_grant_enabled: false,
      recent_enabled: false,
      events_enabled: false,
      created: expect.stringMatching(TIMESTAMP),
      modified: expect.stringMatching(TIMESTAMP),
    });
    expect(res.json.modified).toBe(res.json.created);
    expect((await call('GET', `/v1/applications/${res.json.id}`)).json).toEqual(res.json);
    expect((await call('GET', '/v1/applications')).json.objects).toEqual([res.json]);
  });

  test('when every optional field is given, then each is kept and the name is trimmed', async () => {
    await start({ seed: false });
    const body = {
      name: '  Full  ',
      description: 'd',
      logo_url: 'https://img.example.com/l.png',
      implicit_grant_enabled: true,
      recent_enabled: 'True',
      events_enabled: true,
    };
    const app = await createApp(body);
    expect(app).toMatchObject({ ...body, name: 'Full', recent_enabled: true });
  });

  test.each([
    ['no body', undefined],
    ['no name', { description: 'x' }],
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a numeric name', { name: 7 }],
    ['a null name', { name: null }],
    ['a name over 255 characters', { name: 'x'.repeat(256) }],
    ['an unknown field', { name: 'x', colour: 'red' }],
    ['active, which is not a create field', { name: 'x', active: false }],
    ['the misspelt events_grant_enabled', { name: 'x', events_grant_enabled: true }],
    ['a boolean as a number', { name: 'x', recent_enabled: 1 }],
    ['a boolean as yes', { name: 'x', recent_enabled: 'yes' }],
    ['a relative logo_url', { name: 'x', logo_url: '/logo.png' }],
    ['a description that is not a string', { name: 'x', description: ['d'] }],
    ['an array body', [{ name: 'x' }]],
    ['an unknown source', { name: 'x', source: 'noSuchApplication0000' }],
  ])('when the body has %s, then 400 bad_request and nothing is created', async (_label, body) => {
    await start();
    expectError(await call('POST', '/v1/applications', { body }), 400, 'bad_request');
    expect((await call('GET', '/v1/applications')).json.total).toBe(3);
  });

  test('when the body is not valid JSON, then 400 bad_request', async () => {
    await start();
    expectError(await call('POST', '/v1/applications', { raw: '{"name": ' }), 400, 'bad_request');
  });

  test('when a source is given, then its settings and API keys (as new keys) are copied and given fields win', async () => {
    await start();
    const template = await createApp({
      name: 'Template',
      description: 'tmpl',
      logo_url: 'https://x.example/l.png',
      implicit_grant_enabled: true,
      events_enabled: true,
    });
    await call('POST', `/v1/applications/${template.id}/apikeys`);
    await call('POST', `/v1/applications/${template.id}/apikeys`);
    const sourceKeys = (await call('GET', `/v1/applications/${template.id}/apikeys`)).json.objects.map(
      (k: { key: string }) => k.key,
    );

    const copy = await createApp({ name: 'Copy', source: template.id, events_enabled: false });
    expect(copy).toMatchObject({
      name: 'Copy',
      description: 'tmpl',
      logo_url: 'https://x.example/l.png',
      implicit_grant_enabled: true,
      recent_enabled: false,
      events_enabled: false,
      active: true,
    });
    expect(copy.id).not.toBe(template.id);
    const copiedKeys = (await call('GET', `/v1/applications/${copy.id}/apikeys`)).json.objects.map(
      (k: { key: string }) => k.key,
    );
    expect(copiedKeys).toHaveLength(2);
    expect(copiedKeys.filter((k: string) => sourceKeys.includes(k))).toEqual([]);
    expect(
      (await call('GET', `/v1/applications/${template.id}/apikeys`)).json.objects.map((k: { key: string }) => k.key),
    ).toEqual(sourceKeys);
  });

  test('when the source is a seeded application, then its description and logo are copied', async () => {
    await start();
    const copy = await createApp({ name: 'From Demo', source: APP3 });
    expect(copy).toMatchObject({ description: 'A demo app.', logo_url: expect.stringContaining('gdrive.png') });
  });
});

describe('retrieve, update and delete an application', () => {
  test('when the id is unknown, then retrieve, update and delete answer 404 not_found', async () => {
    await start();
    expectError(await call('GET', '/v1/applications/nope'), 404, 'not_found');
    expectError(await call('PATCH', '/v1/applications/nope', { body: { name: 'x' } }), 404, 'not_found');
    expectError(await call('DELETE', '/v1/applications/nope'), 404, 'not_found');
  });

  test('when updated, then 200 with the new object, created kept and modified moved forward', async () => {
    await start();
    const res = await call('PATCH', `/v1/applications/${APP1}`, {
      body: { description: 'A better test application.', active: 'False', recent_enabled: true },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: APP1,
      name: 'Test App 1',
      description: 'A better test application.',
      active: false,
      recent_enabled: true,
      created: '2014-03-18T03:57:16.770685Z',
    });
    expect(res.json.modified).toMatch(TIMESTAMP);
    expect(res.json.modified > '2014-06-26T04:13:45.439534Z').toBe(true);
    expect((await call('GET', `/v1/applications/${APP1}/`)).json).toEqual(res.json);
  });

  test('when two updates follow each other at once, then modified still increases', async () => {
    await start({ seed: false });
    const app = await createApp({ name: 'a' });
    const first = (await call('PATCH', `/v1/applications/${app.id}`, { body: { name: 'b' } })).json;
    const second = (await call('PATCH', `/v1/applications/${app.id}`, { body: { name: 'c' } })).json;
    expect(first.modified > app.modified!).toBe(true);
    expect(second.modified > first.modified).toBe(true);
  });

  test.each([
    ['source', { source: APP2 }],
    ['an unknown field', { id: 'new-id' }],
    ['a blank name', { name: ' ' }],
    ['a non-boolean active', { active: 'maybe' }],
    ['a null description', { description: null }],
    ['an array body', []],
  ])('when an update has %s, then 400 bad_request and nothing changes', async (_label, body) => {
    await start();
    const before = (await call('GET', `/v1/applications/${APP1}`)).json;
    expectError(await call('PATCH', `/v1/applications/${APP1}`, { body }), 400, 'bad_request');
    expect((await call('GET', `/v1/applications/${APP1}`)).json).toEqual(before);
  });

  test('when an update body is not valid JSON, then 400 bad_request', async () => {
    await start();
    expectError(await call('PATCH', `/v1/applications/${APP1}`, { raw: 'name=x' }), 400, 'bad_request');
  });

  test('when deleted, then 204 with no body and the application and its sub-resources are gone', async () => {
    await start();
    const res = await call('DELETE', `/v1/applications/${APP1}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectError(await call('GET', `/v1/applications/${APP1}`), 404, 'not_found');
    expectError(await call('DELETE', `/v1/applications/${APP1}`), 404, 'not_found');
    expectError(await call('GET', `/v1/applications/${APP1}/apikeys`), 404, 'not_found');
    expectError(
      await call('POST', `/v1/applications/${APP1}/webhooks`, { body: { url: 'https://h.example' } }),
      404,
      'not_found',
    );
    const list = (await call('GET', '/v1/applications')).json;
    expect(list.total).toBe(2);
    expect(list.objects.map((a: { id: string }) => a.id)).toEqual([APP2, APP3]);
    expect((await call('GET', '/v1/applications?active=False')).json.total).toBe(0);
  });
});

describe('API keys', () => {
  test('when listing a seeded application, then the reference key is there', async () => {
    await start();
    const res = await call('GET', `/v1/applications/${APP1}/apikeys`);
    expect(res.json).toEqual({
      total: 1,
      count: 1,
      page: 1,
      objects: [{ key: SEEDED_KEY, created: '2014-03-18T03:57:16.770685Z', modified: '2014-03-18T03:57:16.770685Z' }],
    });
  });

  test.each([
    ['an empty body', undefined],
    ['{}', {}],
  ])('when created with %s, then 201 with a 30-character key that is then listed', async (_label, body) => {
    await start();
    const res = await call('POST', `/v1/applications/${APP2}/apikeys/`, { body });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      key: expect.stringMatching(/^[A-Za-z0-9]{30}$/),
      created: expect.stringMatching(TIMESTAMP),
      modified: res.json.created,
    });
    expect((await call('GET', `/v1/applications/${APP2}/apikeys`)).json.objects).toEqual([res.json]);
  });

  test('when created with fields in the body, then 400 bad_request', async () => {
    await start();
    expectError(await call('POST', `/v1/applications/${APP2}/apikeys`, { body: { key: 'mine' } }), 400, 'bad_request');
    expectError(await call('POST', `/v1/applications/${APP2}/apikeys`, { body: 'text' }), 400, 'bad_request');
  });

  test('when keys are paginated, then page_size and page apply', async () => {
    await start();
    for (let i = 0; i < 4; i++) await call('POST', `/v1/applications/${APP1}/apikeys`);
    const res = await call('GET', `/v1/applications/${APP1}/apikeys?page_size=2&page=3`);
    expect(res.json).toMatchObject({ total: 5, count: 1, page: 3 });
    expectError(await call('GET', `/v1/applications/${APP1}/apikeys?page_size=1001`), 400, 'bad_request');
  });

  test('when a key is deleted, then 204, it is no longer listed and deleting it again is 404', async () => {
    await start();
    const res = await call('DELETE', `/v1/applications/${APP1}/apikeys/${SEEDED_KEY}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await call('GET', `/v1/applications/${APP1}/apikeys`)).json.total).toBe(0);
    expectError(await call('DELETE', `/v1/applications/${APP1}/apikeys/${SEEDED_KEY}`), 404, 'not_found');
  });

  test('when the key belongs to another application or the application is unknown, then 404 not_found', async () => {
    await start();
    expectError(await call('DELETE', `/v1/applications/${APP2}/apikeys/${SEEDED_KEY}`), 404, 'not_found');
    expectError(await call('GET', '/v1/applications/nope/apikeys'), 404, 'not_found');
    expectError(await call('POST', '/v1/applications/nope/apikeys'), 404, 'not_found');
    expect((await call('GET', `/v1/applications/${APP1}/apikeys`)).json.total).toBe(1);
  });
});

describe('webhooks', () => {
  test('when webhooks are created, then ids count up from 100 across applications and each can be retrieved', async () => {
    await start();
    const first = await call('POST', `/v1/applications/${APP1}/webhooks`, { body: { url: 'http://localhost:5000' } });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({
      id: '100',
      url: 'http://localhost:5000',
      created: expect.stringMatching(TIMESTAMP),
      modified: first.json.created,
    });
    const second = await call('POST', `/v1/applications/${APP2}/webhooks/`, {
      body: { url: 'https://hooks.example.com/k' },
    });
    expect(second.json.id).toBe('101');
    expect((await call('GET', `/v1/applications/${APP1}/webhooks/100`)).json).toEqual(first.json);
    expect((await call('GET', `/v1/applications/${APP1}/webhooks`)).json).toEqual({
      total: 1,
      count: 1,
      page: 1,
      objects: [first.json],
    });
    expectError(await call('GET', `/v1/applications/${APP2}/webhooks/100`), 404, 'not_found');
  });

  test.each([
    ['no url', {}],
    ['a relative url', { url: '/hook' }],
    ['an ftp url', { url: 'ftp://example.com/hook' }],
    ['a url that is not a string', { url: 5 }],
    ['an extra field', { url: 'https://h.example', secret: 's' }],
  ])('when created with %s, then 400 bad_request', async (_label, body) => {
    await start();
    expectError(await call('POST', `/v1/applications/${APP1}/webhooks`, { body }), 400, 'bad_request');
    expect((await call('GET', `/v1/applications/${APP1}/webhooks`)).json.total).toBe(0);
  });

  test('when a webhook is deleted, then 204 and it is gone', async () => {
    await start();
    await call('POST', `/v1/applications/${APP1}/webhooks`, { body: { url: 'https://h.example' } });
    const res = await call('DELETE', `/v1/applications/${APP1}/webhooks/100/`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectError(await call('GET', `/v1/applications/${APP1}/webhooks/100`), 404, 'not_found');
    expectError(await call('DELETE', `/v1/applications/${APP1}/webhooks/100`), 404, 'not_found');
  });

  test('when the application is unknown, then every webhook operation is 404', async () => {
    await start();
    expectError(await call('GET', '/v1/applications/nope/webhooks'), 404, 'not_found');
    expectError(
      await call('POST', '/v1/applications/nope/webhooks', { body: { url: 'https://h.example' } }),
      404,
      'not_found',
    );
    expectError(await call('GET', '/v1/applications/nope/webhooks/100'), 404, 'not_found');
    expectError(await call('DELETE', '/v1/applications/nope/webhooks/100'), 404, 'not_found');
  });
});

describe('routing', () => {
  test.each([
    ['GET', '/v1/applications', 200, undefined],
    ['POST', '/v1/applications', 201, { name: 'n' }],
    ['GET', `/v1/applications/${APP1}`, 200, undefined],
    ['PATCH', `/v1/applications/${APP1}`, 200, { name: 'n' }],
    ['GET', `/v1/applications/${APP1}/apikeys`, 200, undefined],
    ['POST', `/v1/applications/${APP1}/apikeys`, 201, undefined],
    ['DELETE', `/v1/applications/${APP1}/apikeys/${SEEDED_KEY}`, 204, undefined],
    ['GET', `/v1/applications/${APP1}/webhooks`, 200, undefined],
    ['POST', `/v1/applications/${APP1}/webhooks`, 201, { url: 'https://h.example' }],
    ['DELETE', `/v1/applications/${APP1}`, 204, undefined],
  ])(
    'when %s %s is called with and without a trailing slash, then both answer %i',
    async (method, path, status, body) => {
      for (const variant of [path, `${path}/`]) {
        await start();
        expect((await call(method, variant, { body })).status).toBe(status);
        await sim?.close();
      }
    },
  );

  test('when a webhook is retrieved and deleted with a trailing slash, then both work', async () => {
    await start();
    await call('POST', `/v1/applications/${APP1}/webhooks`, { body: { url: 'https://h.example' } });
    expect((await call('GET', `/v1/applications/${APP1}/webhooks/100/`)).status).toBe(200);
    expect((await call('DELETE', `/v1/applications/${APP1}/webhooks/100/`)).status).toBe(204);
  });

  test('when a path is unknown, then 404 not_found', async () => {
    await start();
    for (const path of [
      '/v1/nothing',
      '/v2/applications',
      '/v1/applications//',
      `/v1/applications/${APP1}/other`,
      '/',
    ]) {
      expectError(await call('GET', path), 404, 'not_found');
    }
  });

  test('when a method is not allowed on a known path, then 405 method_not_allowed with Allow', async () => {
    await start();
    const res = await call('PUT', '/v1/applications', { body: {} });
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe('GET, POST');
    expect((await call('POST', `/v1/applications/${APP1}/webhooks/100`)).headers.get('allow')).toBe('GET, DELETE');
  });
});

describe('recorded requests', () => {
  test('when requests arrive, then each is recorded as received, rejected ones included', async () => {
    const s = await start();
    const before = new Date();
    await call('POST', `/v1/applications/?x=1&y=a%20b`, { body: { name: 'Rec' } });
    await call('GET', '/v1/applications', { auth: 'DeveloperKey wrong' });
    await call('PATCH', `/v1/applications/${APP1}`, { raw: '{oops' });
    expect(s.requests).toHaveLength(3);
    const [post, rejected, invalid] = s.requests;
    expect(post).toEqual({
      method: 'POST',
      path: '/v1/applications/',
      query: { x: '1', y: 'a b' },
      headers: expect.objectContaining({ authorization: `DeveloperKey ${KEY}`, 'content-type': 'application/json' }),
      body: { name: 'Rec' },
      rawBody: '{"name":"Rec"}',
      receivedAt: expect.any(Date),
    });
    expect(post!.receivedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(rejected).toMatchObject({
      method: 'GET',
      path: '/v1/applications',
      query: {},
      body: undefined,
      rawBody: '',
    });
    expect(invalid).toMatchObject({ method: 'PATCH', body: undefined, rawBody: '{oops' });
  });

  test('when clearRequests is called, then the same array is emptied', async () => {
    const s = await start();
    const records = s.requests;
    await call('GET', '/v1/applications');
    s.clearRequests();
    expect(records).toHaveLength(0);
    expect(s.requests).toBe(records);
  });

  test('when reset is called, then the seed, records and fault are back to the start', async () => {
    const s = await start();
    await createApp({ name: 'temporary' });
    s.setFault({ kind: 'status', status: 500 });
    s.reset();
    expect(s.requests).toHaveLength(0);
    const list = await call('GET', '/v1/applications');
    expect(list.status).toBe(200);
    expect(list.json.total).toBe(3);
    expect(
      (await call('POST', `/v1/applications/${APP1}/webhooks`, { body: { url: 'https://h.example' } })).json.id,
    ).toBe('100');
  });
});

describe('faults', () => {
  test('when a delay is set, then the answer is normal but late', async () => {
    const s = await start();
    s.setFault({ kind: 'delay', ms: 300 });
    const started = Date.now();
    const res = await call('GET', '/v1/applications');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(res.status).toBe(200);
    expect(res.json.total).toBe(3);
  });

  test('when close() is called during a delay, then it does not wait for the delay', async () => {
    const s = await start();
    s.setFault({ kind: 'delay', ms: 10_000 });
    const outcome = call('GET', '/v1/applications').then(
      () => 'answered',
      () => 'connection closed',
    );
    while (s.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await outcome).toBe('connection closed');
  });

  test('when a status fault has a body and headers, then exactly those are answered', async () => {
    const s = await start();
    s.setFault({
      kind: 'status',
      status: 503,
      body: { status_code: 503, error_code: 'service_unavailable', message: 'down' },
      headers: { 'retry-after': '7' },
    });
    const res = await call('GET', '/v1/applications');
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ status_code: 503, error_code: 'service_unavailable', message: 'down' });
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  test('when a status fault has no body, then a simulated error body is answered, even without a valid key', async () => {
    const s = await start();
    s.setFault({ kind: 'status', status: 500 });
    expectError(await call('GET', '/v1/applications', { auth: null }), 500, 'simulated_fault');
  });

  test('when a fault has times and match, then only matching requests get it, that many times', async () => {
    const s = await start();
    s.setFault({
      kind: 'status',
      status: 502,
      times: 2,
      match: { method: 'post', pathPrefix: `/v1/applications/${APP1}/webhooks` },
    });
    expect((await call('GET', `/v1/applications/${APP1}/webhooks`)).status).toBe(200);
    expect((await call('POST', '/v1/applications', { body: { name: 'x' } })).status).toBe(201);
    const hook = { body: { url: 'https://h.example' } };
    expect((await call('POST', `/v1/applications/${APP1}/webhooks`, hook)).status).toBe(502);
    expect((await call('POST', `/v1/applications/${APP1}/webhooks/`, hook)).status).toBe(502);
    expect((await call('POST', `/v1/applications/${APP1}/webhooks`, hook)).status).toBe(201);
    expect(s.requests).toHaveLength(5);
  });

  test('when the fault is cleared with null, then answers are normal again', async () => {
    const s = await start();
    s.setFault({ kind: 'status', status: 500 });
    s.setFault(null);
    expect((await call('GET', '/v1/applications')).status).toBe(200);
  });

  test('when a reset fault is set, then the connection is dropped without an answer and the request is recorded', async () => {
    const s = await start();
    s.setFault({ kind: 'reset', times: 1 });
    await expect(fetch(`${origin}/v1/applications`)).rejects.toThrow();
    expect(s.requests).toHaveLength(1);
    expect((await call('GET', '/v1/applications')).status).toBe(200);
  });

  test('when a reset-mid-body fault is set, then the status arrives but the body is cut short', async () => {
    const s = await start();
    s.setFault({ kind: 'reset-mid-body' });
    const res = await fetch(`${origin}/v1/applications`, { headers: { authorization: `DeveloperKey ${KEY}` } });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect(s.requests).toHaveLength(1);
  });

  test('when a garbage fault is set, then 200 application/json with a body that is not JSON', async () => {
    const s = await start();
    s.setFault({ kind: 'garbage' });
    const res = await call('GET', '/v1/applications');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(() => JSON.parse(res.text)).toThrow();
  });

  test.each([200_000, 13, 2])(
    'when an oversized fault of %i bytes is set, then a JSON body of exactly that size is answered',
    async (bytes) => {
      const s = await start();
      s.setFault({ kind: 'oversized', bytes });
      const res = await call('GET', '/v1/applications');
      expect(res.status).toBe(200);
      expect(Buffer.byteLength(res.text)).toBe(bytes);
      expect(res.headers.get('content-length')).toBe(String(bytes));
      expect(() => JSON.parse(res.text)).not.toThrow();
      expect(jsonOfSize(bytes)).toHaveLength(bytes);
    },
  );

  test.each([
    [302, 'http://elsewhere.example/collect'],
    [307, '/v1/applications/'],
  ])('when a redirect fault of %i is set, then that status and Location are answered', async (status, location) => {
    const s = await start();
    s.setFault({ kind: 'redirect', status, location });
    const res = await call('POST', '/v1/applications', { body: { name: 'x' } });
    expect(res.status).toBe(status);
    expect(res.headers.get('location')).toBe(location);
    expect(res.text).toBe('');
    expect(s.store.listApplications()).toHaveLength(3);
  });

  test.each([
    ['an unknown kind', { kind: 'explode' }],
    ['a negative delay', { kind: 'delay', ms: -1 }],
    ['a status below 200', { kind: 'status', status: 99 }],
    ['a redirect without location', { kind: 'redirect', status: 302 }],
    ['zero times', { kind: 'reset', times: 0 }],
    ['a non-string match method', { kind: 'reset', match: { method: 1 } }],
  ])('when setFault gets %s, then it throws a TypeError and the current fault stays', async (_label, fault) => {
    const s = await start();
    expect(() => s.setFault(fault as never)).toThrow(TypeError);
    expect((await call('GET', '/v1/applications')).status).toBe(200);
  });
});

describe('control API', () => {
  test('when the control API is off, then /_simulator/ is an ordinary path that needs the key', async () => {
    const s = await start();
    expectError(await call('GET', '/_simulator/requests', { auth: null }), 401, 'unauthorized');
    expectError(await call('POST', '/_simulator/reset'), 404, 'not_found');
    expect(s.requests).toHaveLength(2);
  });

  test('when requests are listed over HTTP, then they come back as JSON and control calls are not recorded', async () => {
    const s = await start({ controlApi: true });
    await call('POST', '/v1/applications?q=1', { body: { name: 'Rec' } });
    const res = await call('GET', '/_simulator/requests', { auth: null });
    expect(res.status).toBe(200);
    expect(res.json).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/applications',
        query: { q: '1' },
        body: { name: 'Rec' },
        rawBody: '{"name":"Rec"}',
      }),
    ]);
    expect(new Date(res.json[0].receivedAt).getTime()).toBe(s.requests[0]!.receivedAt.getTime());
    expect((await call('DELETE', '/_simulator/requests/', { auth: null })).status).toBe(204);
    expect(s.requests).toHaveLength(0);
  });

  test('when a fault is put over HTTP, then it applies, can be read back and cleared with null', async () => {
    const s = await start({ controlApi: true });
    const fault = { kind: 'status', status: 429, times: 1 };
    expect((await call('PUT', '/_simulator/fault', { body: fault, auth: null })).status).toBe(204);
    expect((await call('GET', '/_simulator/fault', { auth: null })).json).toEqual(fault);
    expect((await call('GET', '/v1/applications')).status).toBe(429);
    expect((await call('GET', '/v1/applications')).status).toBe(200);
    await call('PUT', '/_simulator/fault', { body: { kind: 'reset' }, auth: null });
    expect((await call('PUT', '/_simulator/fault', { raw: 'null', auth: null })).status).toBe(204);
    expect((await call('GET', '/_simulator/fault', { auth: null })).json).toBeNull();
    expect((await call('GET', '/v1/applications')).status).toBe(200);
    expect(s.requests).toHaveLength(3);
  });

  test.each([
    ['an invalid fault', { kind: 'status', status: 'soon' }],
    ['an empty body', undefined],
  ])('when %s is put over HTTP, then 400 bad_request', async (_label, body) => {
    await start({ controlApi: true });
    expectError(await call('PUT', '/_simulator/fault', { body, auth: null }), 400, 'bad_request');
    expectError(await call('PUT', '/_simulator/fault', { raw: '{kind', auth: null }), 400, 'bad_request');
  });

  test('when reset is posted over HTTP, then state, records and fault are cleared', async () => {
    const s = await start({ controlApi: true });
    const app = await createApp({ name: 'temporary' });
    s.setFault({ kind: 'status', status: 500, match: { pathPrefix: '/v1/applications/x' } });
    expect((await call('POST', '/_simulator/reset', { auth: null })).status).toBe(204);
    expect(s.requests).toHaveLength(0);
    expectError(await call('GET', `/v1/applications/${app.id}`), 404, 'not_found');
    expect((await call('GET', '/_simulator/fault', { auth: null })).json).toBeNull();
  });

  test('when an unknown control action is called, then 404 not_found', async () => {
    await start({ controlApi: true });
    expectError(await call('GET', '/_simulator/nothing', { auth: null }), 404, 'not_found');
    expectError(await call('POST', '/_simulator/requests', { auth: null }), 404, 'not_found');
  });
});

describe('store', () => {
  test('when a timestamp is formatted, then it carries six fractional digits', () => {
    expect(formatTimestamp(Date.UTC(2015, 5, 1, 3, 57, 16) * 1000 + 770_685)).toBe('2015-06-01T03:57:16.770685Z');
    expect(formatTimestamp(Date.UTC(2015, 5, 1) * 1000 + 5)).toBe('2015-06-01T00:00:00.000005Z');
  });

  test('when the store returns an application, then changing the copy does not change the store', async () => {
    const s = await start();
    const app = s.store.getApplication(APP1)!;
    app.name = 'mutated';
    expect(s.store.getApplication(APP1)?.name).toBe('Test App 1');
  });
});
