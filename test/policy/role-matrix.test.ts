import { OPERATIONS, type OperationId } from '../../src/catalogue/operations';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

/** The default policy as the README states it; the code's table must agree. */
const EXPECTED: Record<string, OperationId[]> = {
  viewer: ['applications.list', 'applications.get', 'webhooks.list', 'webhooks.get'],
  editor: [
    'applications.list',
    'applications.get',
    'webhooks.list',
    'webhooks.get',
    'applications.create',
    'applications.update',
    'webhooks.create',
    'webhooks.delete',
  ],
  admin: OPERATIONS.map((o) => o.id),
  auditor: [],
  stranger: [],
};

const REQUESTS: Record<OperationId, { path: string; body?: object }> = {
  'applications.list': { path: '/v1/applications' },
  'applications.create': { path: '/v1/applications', body: { name: 'Matrix' } },
  'applications.get': { path: `/v1/applications/${APP}` },
  'applications.update': { path: `/v1/applications/${APP}`, body: { description: 'x' } },
  'applications.delete': { path: '/v1/applications/noSuchApp' },
  'apikeys.list': { path: `/v1/applications/${APP}/apikeys` },
  'apikeys.create': { path: '/v1/applications/noSuchApp/apikeys' },
  'apikeys.delete': { path: `/v1/applications/${APP}/apikeys/noSuchKey` },
  'webhooks.list': { path: `/v1/applications/${APP}/webhooks` },
  'webhooks.create': { path: `/v1/applications/${APP}/webhooks`, body: { url: 'https://example.com/h' } },
  'webhooks.get': { path: `/v1/applications/${APP}/webhooks/999` },
  'webhooks.delete': { path: `/v1/applications/${APP}/webhooks/999` },
};

let h: Harness;
beforeAll(async () => {
  // Every team list walks the upstream's list afresh, so each allowed call is seen at the simulator.
  h = await startHarness({ env: { OWNERSHIP_LIST_MAX_AGE_MS: '0' } });
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
beforeEach(() => h.simulator.clearRequests());

const cells = Object.keys(EXPECTED).flatMap((role) =>
  OPERATIONS.map((op) => [role, op.id, EXPECTED[role]!.includes(op.id)] as const),
);

test.each(cells)('when a %s calls %s, then allowed=%s', async (role, id, allowed) => {
  const op = OPERATIONS.find((o) => o.id === id)!;
  const { path, body } = REQUESTS[id];
  const req = h
    .api()
    [op.method.toLowerCase() as 'get'](path)
    .set('Authorization', `Bearer ${tokenFor(role)}`);
  const res = body ? await req.send(body) : await req;
  if (allowed && h.deps.policy().approvals.has(id)) {
    // Guarded by the built-in two-person rule: allowed means asked, not yet forwarded.
    expect(res.status).toBe(202);
    expect(h.simulator.requests).toHaveLength(0);
  } else if (allowed) {
    expect(res.status).not.toBe(403);
    expect(h.simulator.requests).toHaveLength(1);
  } else {
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'forbidden', details: [{ operation: id }] });
    expect(h.simulator.requests).toHaveLength(0);
  }
});

test('when a caller holds two roles, then the union of their grants applies', async () => {
  const token = tokenFor(['viewer', 'auditor']);
  const res = await h.api().get('/v1/me').set('Authorization', `Bearer ${token}`);
  expect(res.body.permissions).toEqual([...EXPECTED.viewer!, 'audit.read']);
});

test('when /v1/me is called, then it returns identity, roles and the operations the caller may call', async () => {
  const res = await h
    .api()
    .get('/v1/me')
    .set('Authorization', `Bearer ${tokenFor('editor', 'erin')}`);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    sub: 'erin',
    roles: ['editor'],
    permissions: expect.arrayContaining(EXPECTED.editor!),
  });
  expect(res.body.operations).toContainEqual({ id: 'applications.create', method: 'POST', path: '/v1/applications' });
  expect(res.body.operations).toHaveLength(EXPECTED.editor!.length);
  expect(h.simulator.requests).toHaveLength(0);
});
