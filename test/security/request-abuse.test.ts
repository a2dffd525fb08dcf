import { entriesFor } from '../helpers/audit';
import { DEVELOPER_KEY, startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { APP, exchange, sendRaw } from './support';

/**
 * Requests shaped to confuse: request targets, method overrides, hop-by-hop headers, client-sent keys,
 * header limits, request smuggling. The gateway must answer cleanly, forward only what it validated (with
 * its own key, its own headers) and stay up. test/routes/forwarding.test.ts already shows that a client's
 * cookies, X-Forwarded-For, Proxy-Authorization, `DeveloperKey` header and X-HTTP-Method-Override on a GET
 * list stay behind; these are the rest.
 */

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startHarness();
  admin = tokenFor('admin', 'abuse-admin');
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
beforeEach(() => h.simulator.clearRequests());

const bearer = (): [string, string] => ['Authorization', `Bearer ${admin}`];
const json: [string, string] = ['Content-Type', 'application/json'];
const upstreamHost = () => new URL(h.simulator.url).host;
const alive = async () => expect((await h.api().get('/healthz')).status).toBe(200);

describe('when the request target names another host', () => {
  test.each([
    ['an absolute URI', 'http://evil.example/v1/applications'],
    ['an absolute URI with user info', 'http://user:pw@evil.example/v1/applications'],
    ['an absolute URI with a port', 'https://evil.example:8443/v1/applications'],
  ])(
    '%s, then only the path counts: the upstream gets its own host and the catalogued path',
    async (_label, target) => {
      const res = await sendRaw(h, 'GET', target, [bearer()]);
      expect(res.status).toBe(200);
      expect(h.simulator.requests).toHaveLength(1);
      expect(h.simulator.requests[0]).toMatchObject({ method: 'GET', path: '/v1/applications/' });
      expect(h.simulator.requests[0]?.headers.host).toBe(upstreamHost());
    },
  );

  test('a Host or X-Forwarded-Host of evil.example, then the upstream still gets its own host and no forwarding headers', async () => {
    const res = await h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
      .set('Forwarded', 'host=evil.example');
    expect(res.status).toBe(200);
    const up = h.simulator.requests[0]!;
    expect(up.headers.host).toBe(upstreamHost());
    expect(JSON.stringify(up.headers)).not.toContain('evil.example');
  });

  test.each([
    ['a scheme-relative target', '//evil.example/v1/applications', 404],
    ['an @host after the collection', '/v1/applications@evil.example', 404],
    ['an @host as an id', '/v1/applications/@evil.example', 400],
    ['an @host with an encoded slash', '/v1/applications/%2f%2fevil.example', 400],
    ['a backslash host', '/v1/applications/\\\\evil.example', 400],
    ['the asterisk form', '*', 404],
  ])('%s (%s), then %s and nothing is forwarded', async (_label, target, status) => {
    const res = await sendRaw(h, 'GET', target, [bearer()]);
    expect(res.status).toBe(status);
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('CONNECT to another host, then the connection is closed and nothing is forwarded', async () => {
    const { text, closed } = await exchange(
      h,
      `CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nAuthorization: Bearer ${admin}\r\n\r\n`,
    );
    expect(closed).toBe(true);
    expect(text).not.toMatch(/^HTTP\/1\.1 2/);
    expect(h.simulator.requests).toHaveLength(0);
    await alive();
  });
});

describe('when a client asks for another method', () => {
  const overrides: [string, string][] = [
    ['X-HTTP-Method-Override', 'DELETE'],
    ['X-Method-Override', 'DELETE'],
    ['X-HTTP-Method', 'DELETE'],
  ];

  test('by header on a read, then the read is forwarded as a GET and the application still exists', async () => {
    const res = await sendRaw(h, 'GET', `/v1/applications/${APP}`, [bearer(), ...overrides]);
    expect(res.status).toBe(200);
    expect(h.simulator.requests.map((r) => r.method)).toEqual(['GET']);
    expect(h.simulator.store.getApplication(APP)).toBeDefined();
  });

  test('by header on a mutation, then it is forwarded and audited as what it is (POST webhooks.create)', async () => {
    const res = await sendRaw(
      h,
      'POST',
      `/v1/applications/${APP}/webhooks`,
      [bearer(), json, ...overrides],
      Buffer.from('{"url":"https://hooks.example.com/mo"}'),
    );
    expect(res.status).toBe(201);
    expect(h.simulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /v1/applications/${APP}/webhooks/`,
    ]);
    for (const [name] of overrides) expect(h.simulator.requests[0]?.headers[name.toLowerCase()]).toBeUndefined();
    const entries = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(entries.map((e) => [e.kind, e.method, e.operation])).toEqual([
      ['request', 'POST', 'webhooks.create'],
      ['response', 'POST', 'webhooks.create'],
    ]);
  });

  test.each([
    ['a _method query on a read', 'GET', `/v1/applications/${APP}?_method=DELETE`, undefined],
    [
      'a _method query on a mutation',
      'POST',
      `/v1/applications/${APP}/webhooks?_method=DELETE`,
      '{"url":"https://hooks.example.com/m"}',
    ],
    ['a _method body field', 'PATCH', `/v1/applications/${APP}`, '{"name":"x","_method":"DELETE"}'],
  ])('by %s, then it is refused (400 unknown_field) and nothing is forwarded', async (_label, method, path, body) => {
    const res = await sendRaw(
      h,
      method,
      path,
      [bearer(), ...(body ? [json] : [])],
      body ? Buffer.from(body) : undefined,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.details).toContainEqual(
      expect.objectContaining({ field: '_method', code: 'unknown_field' }),
    );
    expect(h.simulator.requests).toHaveLength(0);
  });
});

describe('when hop-by-hop headers are abused', () => {
  test('Connection: authorization (asking a proxy to drop the credential), then the caller is still authenticated and the upstream still gets the server key', async () => {
    const res = await sendRaw(h, 'GET', '/v1/applications', [bearer(), ['Connection', 'close, authorization']]);
    expect(res.status).toBe(200);
    expect(h.simulator.requests[0]?.headers.authorization).toBe(`DeveloperKey ${DEVELOPER_KEY}`);
  });

  test('Connection naming Content-Type and X-Request-Id on a mutation, then the upstream still gets JSON and the request id', async () => {
    const res = await sendRaw(
      h,
      'POST',
      `/v1/applications/${APP}/webhooks`,
      [bearer(), json, ['X-Request-Id', 'hop-by-hop-1234'], ['Connection', 'content-type, x-request-id']],
      Buffer.from('{"url":"https://hooks.example.com/hop"}'),
    );
    expect(res.status).toBe(201);
    expect(h.simulator.requests[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-request-id': res.headers['x-request-id'],
      authorization: `DeveloperKey ${DEVELOPER_KEY}`,
    });
  });

  test('Upgrade, TE, Trailer, Keep-Alive and Proxy-Connection, then none reach the upstream and the request is served normally', async () => {
    const headers = [
      'Connection: close, Upgrade, Keep-Alive, TE',
      'Upgrade: websocket',
      'TE: trailers',
      'Trailer: X-Evil',
      'Keep-Alive: timeout=600',
      'Proxy-Connection: keep-alive',
    ];
    const { text } = await exchange(
      h,
      `GET /v1/applications HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${admin}\r\n${headers.join('\r\n')}\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    const up = h.simulator.requests[0]!.headers;
    for (const name of ['upgrade', 'te', 'trailer', 'keep-alive', 'proxy-connection', 'x-evil'])
      expect(up[name]).toBeUndefined();
  });

  test.each([
    ['both Content-Length and Transfer-Encoding', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two different Content-Lengths', 'Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}'],
    ['an obfuscated Transfer-Encoding', 'Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
    ['a bare LF line ending in the headers', 'Content-Length: 2\nX-Evil: 1\r\n\r\n{}'],
  ])(
    'a request with %s (request smuggling), then it is refused with 400 and nothing is forwarded',
    async (_label, tail) => {
      const head = `POST /v1/applications/${APP}/webhooks HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\n`;
      const { text } = await exchange(h, head + tail);
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(h.simulator.requests).toHaveLength(0);
      await alive();
    },
  );

  test('a chunked JSON body, then it is read as one body and forwarded once', async () => {
    const body = '{"url":"https://hooks.example.com/chunked"}';
    const chunked = `${(20).toString(16)}\r\n${body.slice(0, 20)}\r\n${(body.length - 20).toString(16)}\r\n${body.slice(20)}\r\n0\r\n\r\n`;
    const { text } = await exchange(
      h,
      `POST /v1/applications/${APP}/webhooks HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 201 /);
    expect(h.simulator.requests.map((r) => r.body)).toEqual([{ url: 'https://hooks.example.com/chunked' }]);
  });
});

describe('when a client sends a DeveloperKey of its own', () => {
  test('Authorization: DeveloperKey with the real key, then 401: the gateway accepts only staff tokens, and nothing is forwarded', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await sendRaw(h, method, `/v1/applications/${APP}`, [
        ['Authorization', `DeveloperKey ${DEVELOPER_KEY}`],
      ]);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text).error.code).toBe('unauthenticated');
    }
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('key-like headers and a second scheme alongside a valid token, then the upstream gets exactly the server key and none of the client values', async () => {
    const forged = 'client-forged-developer-key-0123456789';
    const res = await sendRaw(
      h,
      'POST',
      `/v1/applications/${APP}/webhooks`,
      [
        bearer(),
        json,
        ['DeveloperKey', forged],
        ['X-DeveloperKey', forged],
        ['X-Api-Key', forged],
        ['X-Authorization', `DeveloperKey ${forged}`],
        ['Proxy-Authorization', `DeveloperKey ${forged}`],
      ],
      Buffer.from('{"url":"https://hooks.example.com/dk"}'),
    );
    expect(res.status).toBe(201);
    const up = h.simulator.requests[0]!;
    expect(up.headers.authorization).toBe(`DeveloperKey ${DEVELOPER_KEY}`);
    expect(JSON.stringify(up.headers)).not.toContain(forged);
    expect(JSON.stringify(up.headers)).not.toContain(admin);
  });

  test('a developer_key or authorization field in a body, then 400 unknown_field and nothing is forwarded', async () => {
    const res = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'x', developer_key: 'k', authorization: 'DeveloperKey k' });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'authorization',
      'developer_key',
    ]);
    expect(h.simulator.requests).toHaveLength(0);
  });
});

describe('when the headers are too many or too large (16 KiB, 100 fields)', () => {
  const pad = (n: number, size = 1): [string, string][] =>
    Array.from({ length: n }, (_, i) => [`X-Pad-${i}`, 'x'.repeat(size)]);

  test.each<[string, number, [string, string][]]>([
    // node:http adds Host and Connection: with Authorization, 3 fields besides the padding.
    ['100 fields in all (the limit)', 200, pad(97)],
    ['101 fields in all', 431, pad(98)],
    ['2,000 tiny fields', 431, pad(2000)],
    ['one 17 KiB field', 431, [['X-Big', 'x'.repeat(17 * 1024)]]],
    ['headers of 15 KiB in all', 200, pad(15, 1000)],
    ['headers of 17 KiB in all', 431, pad(17, 1024)],
  ])('%s, then %s, nothing is forwarded past the limit, and the gateway stays up', async (_label, status, extra) => {
    const res = await sendRaw(h, 'GET', '/v1/applications', [bearer(), ...extra]);
    expect(res.status).toBe(status);
    expect(h.simulator.requests).toHaveLength(status === 200 ? 1 : 0);
    await alive();
  });

  test('a second Authorization header hidden after the 100th field, then the request is refused, never served with the first one', async () => {
    const viewer = tokenFor('viewer', 'abuse-viewer');
    const res = await sendRaw(h, 'DELETE', `/v1/applications/${APP}`, [
      ['Authorization', `Bearer ${viewer}`],
      ...pad(110),
      bearer(),
    ]);
    expect([401, 431]).toContain(res.status);
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('a Content-Type hidden after the 100th field, then the mutation is refused rather than read without it', async () => {
    const res = await sendRaw(
      h,
      'POST',
      `/v1/applications/${APP}/webhooks`,
      [bearer(), ...pad(110), json],
      Buffer.from('{"url":"https://hooks.example.com/late"}'),
    );
    expect(res.status).toBe(431);
    expect(h.simulator.requests).toHaveLength(0);
  });
});
