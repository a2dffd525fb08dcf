import { OPERATIONS, type OperationId } from '../../src/catalogue/operations';
import { DEFAULT_BACKEND } from '../helpers/database';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { ownedApplication, scopedPolicyFile } from '../helpers/ownership';
import { tokenFor } from '../helpers/tokens';

/**
 * Object-level authorization over every operation: a `team`-scoped caller reaches only its teams' applications.
 * For each operation and each situation, the expected status, that nothing reached the upstream when refused,
 * and that every refusal is in the trail. A cross-team success anywhere fails this file.
 */
type Situation = 'own team' | 'other team' | 'no team' | 'unowned application' | 'any scope';
const SITUATIONS: Situation[] = ['own team', 'other team', 'no team', 'unowned application', 'any scope'];

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    backend: DEFAULT_BACKEND,
    env: { POLICY_FILE: scopedPolicyFile(), OWNERSHIP_LIST_MAX_AGE_MS: '0' },
  });
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});

function tokenIn(situation: Situation): string {
  if (situation === 'any scope') return tokenFor('global', 'gil', ['blue']);
  if (situation === 'no team') return tokenFor('member', 'nora', []);
  return tokenFor('member', 'mia', ['blue']);
}

/** An application for the situation, with a webhook and an API key under it. */
async function target(situation: Situation) {
  const owner = situation === 'other team' ? 'red' : situation === 'unowned application' ? null : 'blue';
  const app = await ownedApplication(
    h,
    owner === null ? null : situation === 'no team' ? 'blue' : owner,
    `Matrix ${situation}`,
  );
  const webhook = h.simulator.store.createWebhook(app, 'https://hooks.example.com/m')!;
  const key = h.simulator.store.createApiKey(app)!;
  return { app, webhook: String(webhook.id), key: key.key };
}

function request(id: OperationId, t: { app: string; webhook: string; key: string }): { path: string; body?: object } {
  const app = `/v1/applications/${t.app}`;
  const paths: Record<OperationId, { path: string; body?: object }> = {
    'applications.list': { path: '/v1/applications?page_size=1000' },
    'applications.create': { path: '/v1/applications', body: { name: 'Created in the matrix' } },
    'applications.get': { path: app },
    'applications.update': { path: app, body: { description: 'changed' } },
    'applications.delete': { path: app },
    'apikeys.list': { path: `${app}/apikeys` },
    'apikeys.create': { path: `${app}/apikeys` },
    'apikeys.delete': { path: `${app}/apikeys/${t.key}` },
    'webhooks.list': { path: `${app}/webhooks` },
    'webhooks.create': { path: `${app}/webhooks`, body: { url: 'https://hooks.example.com/new' } },
    'webhooks.get': { path: `${app}/webhooks/${t.webhook}` },
    'webhooks.delete': { path: `${app}/webhooks/${t.webhook}` },
  };
  return paths[id];
}

/** What each situation must give: `forwarded` (reached the upstream), or the refusal and its recorded reason. */
function expected(
  id: OperationId,
  situation: Situation,
): { status: number; reason?: string } | 'forwarded' | 'own list' {
  if (situation === 'any scope') return 'forwarded';
  if (id === 'applications.list') return 'own list';
  if (id === 'applications.create') return situation === 'no team' ? { status: 403, reason: 'no_team' } : 'forwarded';
  if (situation === 'own team') return 'forwarded';
  return { status: 404, reason: situation === 'unowned application' ? 'unowned' : 'not_owner' };
}

const cells = OPERATIONS.flatMap((op) => SITUATIONS.map((s) => [op.id, s] as const));

test.each(cells)(
  'when %s is called by a caller in situation "%s", then only its own team is reached',
  async (id, situation) => {
    const op = OPERATIONS.find((o) => o.id === id)!;
    const t = await target(situation);
    h.simulator.clearRequests();
    const before = (await allEntries(h)).length;
    const { path, body } = request(id, t);
    const call = h
      .api()
      [op.method.toLowerCase() as 'get'](path)
      .set('Authorization', `Bearer ${tokenIn(situation)}`);
    const res = body ? await call.send(body) : await call;
    const want = expected(id, situation);
    const written = (await allEntries(h)).slice(before);

    if (want === 'forwarded') {
      expect(res.status).toBeLessThan(400);
      expect(h.simulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`${op.method} ${path.split('?')[0]}/`]);
      return;
    }
    if (want === 'own list') {
      expect(res.status).toBe(200);
      const ids = (res.body.objects as { id: string }[]).map((o) => o.id);
      const owners = await h.deps.ownership.store.ownersOf(ids);
      const myTeams = situation === 'no team' ? [] : ['blue'];
      expect(ids.filter((i) => !myTeams.includes(owners.get(i) ?? ''))).toEqual([]);
      expect(res.body.total).toBe(ids.length);
      return;
    }
    expect({ status: res.status, code: res.body.error?.code }).toEqual({
      status: want.status,
      code: want.status === 404 ? 'not_found' : want.status === 403 ? 'forbidden' : 'validation_failed',
    });
    expect(h.simulator.requests).toEqual([]);
    const refusal = written.filter((e) => e.kind === 'decision');
    expect(refusal).toHaveLength(1);
    if (want.reason)
      expect(refusal[0]).toMatchObject({ operation: id, decision: 'denied', reason: want.reason, outcome: 'denied' });
  },
);

test("when another team's application and one that does not exist are asked for, then the two answers cannot be told apart", async () => {
  const other = await ownedApplication(h, 'red');
  const token = tokenFor('member', 'mia', ['blue']);
  const a = await h.api().get(`/v1/applications/${other}/webhooks`).set('Authorization', `Bearer ${token}`);
  const b = await h.api().get('/v1/applications/doesNotExist123/webhooks').set('Authorization', `Bearer ${token}`);
  const strip = (r: typeof a) => ({
    status: r.status,
    body: { ...r.body, error: { ...r.body.error, request_id: undefined } },
    type: r.headers['content-type'],
  });
  expect(strip(a)).toEqual(strip(b));
  expect(a.body.error).toMatchObject({ code: 'not_found', message: 'No such application.' });
});

test('when an any-scoped caller creates without naming a team, then it is refused; with X-Team, the team owns the result', async () => {
  const token = tokenFor('global', 'gil', []);
  const refused = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${token}`)
    .send({ name: 'Nobody' });
  expect(refused.status).toBe(400);
  expect(refused.body.error.details).toEqual([expect.objectContaining({ field: 'X-Team', code: 'team_required' })]);
  const created = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${token}`)
    .set('X-Team', 'green')
    .send({ name: 'For green' });
  expect(created.status).toBe(201);
  expect(await h.deps.ownership.store.ownerOf(created.body.id)).toMatchObject({ team: 'green' });
});

test('when a caller in two teams creates, then X-Team must name one of them', async () => {
  const token = tokenFor('member', 'max', ['blue', 'red']);
  const missing = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${token}`)
    .send({ name: 'Which team?' });
  expect(missing.status).toBe(400);
  expect(missing.body.error.details[0]).toMatchObject({
    code: 'team_required',
    message: expect.stringContaining('blue, red'),
  });
  const foreign = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${token}`)
    .set('X-Team', 'green')
    .send({ name: 'Not mine' });
  expect(foreign.status).toBe(403);
  expect(foreign.body.error.details[0]).toMatchObject({ reason: 'not_team_member' });
  const bad = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${token}`)
    .set('X-Team', 'no spaces')
    .send({ name: 'Bad' });
  expect(bad.status).toBe(400);
  const ok = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${token}`)
    .set('X-Team', 'red')
    .send({ name: 'Red one' });
  expect(ok.status).toBe(201);
  const entries = (await allEntries(h)).filter((e) => e.applicationId === ok.body.id);
  expect(entries.map((e) => [e.kind, e.team])).toEqual([['response', 'red']]);
  const request = (await allEntries(h)).find((e) => e.eventId === entries[0]!.eventId && e.kind === 'request');
  expect(request).toMatchObject({ team: 'red', operation: 'applications.create' });
});

test('when an owned application is deleted, then its ownership is retired and the team can no longer reach the id', async () => {
  const app = await ownedApplication(h, 'blue');
  const token = tokenFor('member', 'mia', ['blue']);
  expect((await h.api().delete(`/v1/applications/${app}`).set('Authorization', `Bearer ${token}`)).status).toBe(204);
  expect(await h.deps.ownership.store.ownerOf(app)).toBeUndefined();
  const row = await h.gateway.database.prisma.applicationOwner.findUnique({ where: { applicationId: app } });
  expect(row).toMatchObject({ team: 'blue', retiredAt: expect.any(Date) });
  expect((await h.api().get(`/v1/applications/${app}`).set('Authorization', `Bearer ${token}`)).status).toBe(404);
});

test("when a team-scoped caller creates from another team's application as a source template, then it is refused like that application, and no key is copied", async () => {
  const policy = { member: tokenFor('member', 'mia', ['blue']) };
  const theirs = await ownedApplication(h, 'red');
  h.simulator.store.createApiKey(theirs);
  const mine = await ownedApplication(h, 'blue');
  h.simulator.clearRequests();
  const refused = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${policy.member}`)
    .send({ name: 'Copycat', source: theirs });
  expect(refused.status).toBe(404);
  expect(refused.body.error).toMatchObject({ code: 'not_found', message: 'No such application.' });
  expect(h.simulator.requests).toEqual([]);
  const entry = (await allEntries(h)).at(-1);
  expect(entry).toMatchObject({ kind: 'decision', operation: 'applications.create', reason: 'not_owner' });
  const allowed = await h
    .api()
    .post('/v1/applications')
    .set('Authorization', `Bearer ${policy.member}`)
    .send({ name: 'From mine', source: mine });
  expect(allowed.status).toBe(201);
});
