import { deleteWithApproval } from '../helpers/approvals';
import { startHarness, DEVELOPER_KEY, type Harness } from '../helpers/harness';
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

const lastUpstream = () => {
  const r = h.simulator.requests.at(-1);
  if (!r) throw new Error('nothing reached the simulator');
  return r;
};

describe('forwarding each operation', () => {
  test.each([
    [
      'GET',
      '/v1/applications?page_size=2&page=1',
      undefined,
      'GET',
      '/v1/applications/',
      { page_size: '2', page: '1' },
    ],
    ['GET', '/v1/applications?active=True', undefined, 'GET', '/v1/applications/', { active: 'True' }],
    ['GET', '/v1/applications?active=false', undefined, 'GET', '/v1/applications/', { active: 'False' }],
    ['GET', `/v1/applications/${APP}`, undefined, 'GET', `/v1/applications/${APP}/`, {}],
    ['GET', `/v1/applications/${APP}/`, undefined, 'GET', `/v1/applications/${APP}/`, {}],
    [
      'PATCH',
      `/v1/applications/${APP}`,
      { description: 'A better test application.' },
      'PATCH',
      `/v1/applications/${APP}/`,
      {},
    ],
    [
      'GET',
      `/v1/applications/${APP}/apikeys?page_size=5`,
      undefined,
      'GET',
      `/v1/applications/${APP}/apikeys/`,
      { page_size: '5' },
    ],
    ['GET', `/v1/applications/${APP}/webhooks`, undefined, 'GET', `/v1/applications/${APP}/webhooks/`, {}],
    [
      'POST',
      `/v1/applications/${APP}/webhooks`,
      { url: 'https://hooks.example.com/k' },
      'POST',
      `/v1/applications/${APP}/webhooks/`,
      {},
    ],
  ])(
    'when a client calls %s %s, then the upstream receives the same operation with the DeveloperKey',
    async (method, path, body, upMethod, upPath, upQuery) => {
      const req = h.api()[method.toLowerCase() as 'get'](path).set('Authorization', `Bearer ${admin}`);
      const res = body ? await req.send(body) : await req;
      expect(res.status).toBeLessThan(300);
      const up = lastUpstream();
      expect(up.method).toBe(upMethod);
      expect(up.path).toBe(upPath);
      expect(up.query).toEqual(upQuery);
      expect(up.headers.authorization).toBe(`DeveloperKey ${DEVELOPER_KEY}`);
      if (body) expect(up.body).toEqual(body);
      expect(res.headers['x-request-id']).toBe(up.headers['x-request-id']);
    },
  );

  test('when an application is created, updated and deleted, then each step reaches the upstream and its status comes back', async () => {
    const created = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'Gateway App', events_enabled: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Gateway App', events_enabled: true, active: true });
    expect(lastUpstream()).toMatchObject({
      method: 'POST',
      path: '/v1/applications/',
      body: { name: 'Gateway App', events_enabled: true },
    });
    const id = created.body.id as string;

    const updated = await h
      .api()
      .patch(`/v1/applications/${id}/`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ active: 'False' });
    expect(updated.status).toBe(200);
    expect(updated.body.active).toBe(false);
    expect(lastUpstream().body).toEqual({ active: false });

    // Deleting an application waits for a second person (the built-in two-person rule); the approval executes it.
    const deleted = await deleteWithApproval(h, `/v1/applications/${id}`, admin);
    expect(deleted.body).toMatchObject({ approval: { state: 'executed' }, upstream: { status: 204, body: null } });
    expect(lastUpstream()).toMatchObject({ method: 'DELETE', path: `/v1/applications/${id}/` });

    const gone = await h.api().get(`/v1/applications/${id}`).set('Authorization', `Bearer ${admin}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error_code).toBe('not_found');
  });

  test('when an API key is created and deleted, then both reach the upstream and responses are never cached', async () => {
    const created = await h.api().post(`/v1/applications/${APP}/apikeys`).set('Authorization', `Bearer ${admin}`);
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(lastUpstream()).toMatchObject({ method: 'POST', path: `/v1/applications/${APP}/apikeys/` });
    const key = created.body.key as string;

    const listed = await h.api().get(`/v1/applications/${APP}/apikeys`).set('Authorization', `Bearer ${admin}`);
    expect(listed.headers['cache-control']).toBe('no-store');
    expect(listed.body.objects.map((k: { key: string }) => k.key)).toContain(key);

    const deleted = await h
      .api()
      .delete(`/v1/applications/${APP}/apikeys/${key}`)
      .set('Authorization', `Bearer ${admin}`);
    expect(deleted.status).toBe(204);
    expect(lastUpstream()).toMatchObject({ method: 'DELETE', path: `/v1/applications/${APP}/apikeys/${key}/` });
  });

  test('when a webhook is created, fetched and deleted, then each reaches the upstream', async () => {
    const created = await h
      .api()
      .post(`/v1/applications/${APP}/webhooks/`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ url: 'http://localhost:5000' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const fetched = await h.api().get(`/v1/applications/${APP}/webhooks/${id}`).set('Authorization', `Bearer ${admin}`);
    expect(fetched.body).toMatchObject({ id, url: 'http://localhost:5000' });
    expect(lastUpstream().path).toBe(`/v1/applications/${APP}/webhooks/${id}/`);
    const deleted = await h
      .api()
      .delete(`/v1/applications/${APP}/webhooks/${id}`)
      .set('Authorization', `Bearer ${admin}`);
    expect(deleted.status).toBe(204);
    expect(lastUpstream()).toMatchObject({ method: 'DELETE', path: `/v1/applications/${APP}/webhooks/${id}/` });
  });

  test('when an application is created from a source template, then source is forwarded and the upstream copies the template', async () => {
    const res = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'From template', source: APP });
    expect(res.status).toBe(201);
    expect(lastUpstream().body).toEqual({ name: 'From template', source: APP });
  });
});

describe('what crosses to the upstream', () => {
  test('when the client sends its own credentials, cookies and hop-by-hop headers, then none of them reach the upstream', async () => {
    const res = await h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('Cookie', 'session=abc')
      .set('DeveloperKey', 'client-supplied')
      .set('X-Forwarded-For', '6.6.6.6')
      .set('Proxy-Authorization', 'Basic Zm9vOmJhcg==')
      .set('X-HTTP-Method-Override', 'DELETE')
      .set('Connection', 'keep-alive, x-custom')
      .set('X-Custom', 'hop');
    expect(res.status).toBe(200);
    const up = lastUpstream();
    expect(up.method).toBe('GET');
    expect(up.headers.authorization).toBe(`DeveloperKey ${DEVELOPER_KEY}`);
    for (const name of [
      'cookie',
      'developerkey',
      'x-forwarded-for',
      'proxy-authorization',
      'x-http-method-override',
      'x-custom',
    ]) {
      expect(up.headers[name]).toBeUndefined();
    }
    expect(JSON.stringify(up.headers)).not.toContain(admin);
  });

  test('when the upstream answers with headers, then only the relevant ones come back and Set-Cookie never does', async () => {
    h.simulator.setFault({ kind: 'status', status: 200, body: { ok: true }, times: 1 } as never);
    const res = await h.api().get('/v1/applications').set('Authorization', `Bearer ${admin}`);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.headers['x-request-id']).toBeDefined();
  });

  test('an upstream answer is relayed with its exact length, its type as Express writes it, no-store and no ETag of the gateway', async () => {
    const res = await h.api().get('/v1/applications').set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.etag).toBeUndefined();
  });

  test('a conditional request matching the upstream ETag is answered 304 without a body; a stale one gets the body', async () => {
    const fault = { kind: 'status', status: 200, body: { objects: [] }, headers: { etag: '"v1"' }, times: 1 };
    h.simulator.setFault(fault as never);
    const fresh = await h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('If-None-Match', '"v1"');
    expect(fresh.status).toBe(304);
    expect(fresh.text).toBeFalsy();
    h.simulator.setFault(fault as never);
    const stale = await h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('If-None-Match', '"v0"');
    expect(stale.status).toBe(200);
    expect(stale.headers.etag).toBe('"v1"');
    expect(stale.body).toEqual({ objects: [] });
  });

  test('when the upstream refuses a request, then its error body and status pass through unchanged', async () => {
    const res = await h.api().get('/v1/applications/doesNotExist').set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status_code: 404, error_code: 'not_found' });
    expect(res.body.error).toBeUndefined();
  });

  test("when a well-formed X-Request-Id is sent, then the gateway still answers and forwards its own id (the client's is recorded beside it); a malformed one is ignored", async () => {
    const good = await h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('X-Request-Id', 'trace-1234abcd');
    expect(good.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lastUpstream().headers['x-request-id']).toBe(good.headers['x-request-id']);
    const bad = await h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${admin}`)
      .set('X-Request-Id', 'bad id\twith spaces');
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
