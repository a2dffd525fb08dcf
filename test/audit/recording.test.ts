import { BACKENDS } from '../helpers/database';
import { allEntries, entriesFor, tableAsText } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { waitFor } from '../helpers/async';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

describe.each(BACKENDS)('audit recording on %s', (backend) => {
  let h: Harness;
  let admin: string;
  beforeAll(async () => {
    h = await startHarness({ backend });
    admin = tokenFor('admin', 'ada');
  }, 30_000);
  afterAll(async () => {
    h.assertNoLeaks();
    await h.close();
  });
  beforeEach(() => {
    h.simulator.setFault(null);
    h.simulator.clearRequests();
  });

  const send = (method: 'post' | 'patch' | 'delete', path: string, body?: object, token = admin) => {
    const req = h.api()[method](path).set('Authorization', `Bearer ${token}`).set('User-Agent', 'audit-test/1.0');
    return body ? req.send(body) : req;
  };

  test.each([
    ['applications.create', 'post', '/v1/applications', { name: 'Audited', description: 'made by a test' }],
    ['applications.update', 'patch', `/v1/applications/${APP}`, { description: 'changed' }],
    ['apikeys.create', 'post', `/v1/applications/${APP}/apikeys`, undefined],
    ['webhooks.create', 'post', `/v1/applications/${APP}/webhooks`, { url: 'https://hooks.example.com/a' }],
  ] as const)(
    'when %s is forwarded, then exactly one request and one response entry record it',
    async (operation, method, path, body) => {
      const res = await send(method, path, body);
      expect(res.status).toBeLessThan(300);
      const entries = await entriesFor(h, res.headers['x-request-id'] as string);
      expect(entries.map((e) => e.kind)).toEqual(['request', 'response']);
      const [request, response] = entries as [(typeof entries)[0], (typeof entries)[0]];
      expect(request).toMatchObject({
        operation,
        method: method.toUpperCase(),
        actorSub: 'ada',
        actorRoles: ['admin'],
        clientIp: expect.stringMatching(/127\.0\.0\.1/),
        userAgent: 'audit-test/1.0',
        decision: 'allowed',
        reason: 'role_grants_permission',
        outcome: null,
        requestBody: body ?? null,
      });
      expect(request.actorJti).toMatch(/^[0-9a-f-]{36}$/);
      expect(request.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(response).toMatchObject({
        eventId: request.eventId,
        outcome: 'success',
        upstreamStatus: res.status,
        errorCode: null,
      });
      expect(response.latencyMs).toBeGreaterThan(0);
      expect(response.seq).toBeGreaterThan(request.seq);
    },
  );

  test('when an application is created, then the response entry names the id the upstream returned', async () => {
    const res = await send('post', '/v1/applications', { name: 'Target' });
    const [, response] = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(response?.applicationId).toBe(res.body.id);
  });

  test('when deletes are forwarded, then their targets are recorded (webhook id, application id)', async () => {
    const hook = await send('post', `/v1/applications/${APP}/webhooks`, { url: 'https://hooks.example.com/d' });
    const res = await send('delete', `/v1/applications/${APP}/webhooks/${hook.body.id}`);
    expect(res.status).toBe(204);
    const [request, response] = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(request).toMatchObject({
      operation: 'webhooks.delete',
      applicationId: APP,
      webhookId: hook.body.id,
      path: `/v1/applications/${APP}/webhooks/${hook.body.id}`,
    });
    expect(response).toMatchObject({ outcome: 'success', upstreamStatus: 204 });
  });

  test('when the request entry is written, then it is committed before the upstream is called', async () => {
    h.simulator.setFault({ kind: 'delay', ms: 400, times: 1 });
    const pending = send('post', `/v1/applications/${APP}/webhooks`, { url: 'https://hooks.example.com/early' }).then(
      (r) => r,
    );
    await waitFor(() => h.simulator.requests.length === 1);
    const requestId = h.simulator.requests[0]!.headers['x-request-id'] as string;
    expect((await entriesFor(h, requestId)).map((e) => e.kind)).toEqual(['request']);
    await pending;
    expect((await entriesFor(h, requestId)).map((e) => e.kind)).toEqual(['request', 'response']);
  });

  test('when the upstream refuses a mutation, then the response entry says upstream_error with its status', async () => {
    const res = await send('patch', '/v1/applications/noSuchApplication', { description: 'nobody' });
    expect(res.status).toBe(404);
    const [, response] = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(response).toMatchObject({ outcome: 'upstream_error', upstreamStatus: 404 });
  });

  test('when the upstream cannot be reached, then the response entry records that outcome and error', async () => {
    h.simulator.setFault({ kind: 'reset', times: 1 });
    const res = await send('post', `/v1/applications/${APP}/webhooks`, { url: 'https://hooks.example.com/r' });
    expect(res.status).toBe(502);
    const [, response] = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(response).toMatchObject({
      outcome: 'upstream_unavailable',
      errorCode: 'upstream_unavailable',
      upstreamStatus: null,
      details: { reason: 'connection_reset' },
    });
  });

  test('when a mutation is denied by policy, then one decision entry records the denial and nothing is forwarded', async () => {
    const res = await send('delete', `/v1/applications/${APP}`, undefined, tokenFor('viewer', 'vic'));
    expect(res.status).toBe(403);
    const entries = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      kind: 'decision',
      actorSub: 'vic',
      operation: 'applications.delete',
      decision: 'denied',
      reason: 'no_role_grants_permission',
      outcome: 'denied',
      errorCode: 'forbidden',
      applicationId: APP,
      team: 'demo',
    });
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('when a mutation has bad input, then one decision entry records it as invalid with the problems', async () => {
    const res = await send('post', `/v1/applications/${APP}/webhooks`, { url: 'not a url', extra: true });
    expect(res.status).toBe(400);
    const entries = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      kind: 'decision',
      decision: 'allowed',
      outcome: 'invalid',
      errorCode: 'validation_failed',
      requestBody: { url: 'not a url', extra: true },
    });
    expect((entries[0]!.details as { errors: unknown[] }).errors).toHaveLength(2);
  });

  test('when reads are served or callers are unauthenticated, then nothing is recorded', async () => {
    const before = (await allEntries(h)).length;
    await h.api().get('/v1/applications').set('Authorization', `Bearer ${admin}`);
    await h.api().get(`/v1/applications/${APP}/apikeys`).set('Authorization', `Bearer ${admin}`);
    await h.api().delete(`/v1/applications/${APP}`);
    expect((await allEntries(h)).length).toBe(before);
  });

  test('when API keys are created and deleted, then no key value is stored anywhere, only its fingerprint', async () => {
    const created = await send('post', `/v1/applications/${APP}/apikeys`);
    const key = created.body.key as string;
    const deleted = await send('delete', `/v1/applications/${APP}/apikeys/${key}`);
    expect(deleted.status).toBe(204);
    const fingerprint = h.deps.audit.keys.fingerprint(key);
    const [, createResponse] = await entriesFor(h, created.headers['x-request-id'] as string);
    const [deleteRequest] = await entriesFor(h, deleted.headers['x-request-id'] as string);
    expect(createResponse).toMatchObject({ apikeyFingerprint: fingerprint, fingerprints: [fingerprint] });
    expect(deleteRequest).toMatchObject({
      apikeyFingerprint: fingerprint,
      path: `/v1/applications/${APP}/apikeys/****${key.slice(-4)}`,
    });
    const table = await tableAsText(h);
    for (const secret of [key, ...h.simulator.store.listApiKeys(APP)!.map((k) => k.key)])
      expect(table).not.toContain(secret);
  });

  test('when a webhook URL carries credentials, then they are stored as fingerprints', async () => {
    const res = await send('post', `/v1/applications/${APP}/webhooks`, {
      url: 'https://bot:hunter2@hooks.example.com/x?token=s3cr3t&team=a',
    });
    const [request] = await entriesFor(h, res.headers['x-request-id'] as string);
    const stored = (request!.requestBody as { url: string }).url;
    expect(stored).not.toMatch(/hunter2|s3cr3t/);
    expect(stored).toContain('team=a');
    expect(stored).not.toMatch(/bot:/);
    expect(request!.fingerprints).toEqual(['bot', 'hunter2', 's3cr3t'].map((s) => h.deps.audit.keys.fingerprint(s)));
  });
});
