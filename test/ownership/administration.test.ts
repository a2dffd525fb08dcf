import { DEFAULT_BACKEND } from '../helpers/database';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { ownedApplication, scopedPolicyFile } from '../helpers/ownership';
import { tokenFor } from '../helpers/tokens';

/** /v1/ownership: reading, assigning, transferring, importing; every change and every refusal in the trail. */
let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startHarness({ backend: DEFAULT_BACKEND, env: { POLICY_FILE: scopedPolicyFile() } });
  admin = tokenFor('admin', 'root', ['platform']);
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});

const put = (id: string, body: object, token = admin) =>
  h.api().put(`/v1/ownership/applications/${id}`).set('Authorization', `Bearer ${token}`).send(body);
const entriesAbout = async (id: string) => (await allEntries(h)).filter((e) => e.applicationId === id);

test('when an application is assigned and then transferred, then each change is two entries and the owner follows', async () => {
  const app = await ownedApplication(h, null);
  expect(
    (await h.api().get(`/v1/ownership/applications/${app}`).set('Authorization', `Bearer ${admin}`)).body,
  ).toMatchObject({ application_id: app, team: null });

  const assigned = await put(app, { team: 'platform' });
  expect(assigned.status).toBe(200);
  expect(assigned.body).toMatchObject({
    application_id: app,
    team: 'platform',
    previous_team: null,
    assigned_by_sequence: expect.any(String),
  });
  const transferred = await put(app, { team: 'demo' });
  expect(transferred.body).toMatchObject({ team: 'demo', previous_team: 'platform' });

  const entries = await entriesAbout(app);
  expect(entries.map((e) => [e.kind, e.operation, e.team, e.outcome, e.actorSub])).toEqual([
    ['request', 'ownership.assign', null, null, 'root'],
    ['response', 'ownership.assign', 'platform', 'success', 'root'],
    ['request', 'ownership.assign', 'platform', null, 'root'],
    ['response', 'ownership.assign', 'demo', 'success', 'root'],
  ]);
  expect(entries[2]!.details).toEqual({ from: 'platform', to: 'demo', via: 'assign' });
  expect(String(entries[3]!.seq)).toBe(transferred.body.assigned_by_sequence);
  const demo = tokenFor('member', 'dee', ['demo']);
  expect((await h.api().get(`/v1/applications/${app}`).set('Authorization', `Bearer ${demo}`)).status).toBe(200);
  expect(
    (
      await h
        .api()
        .get(`/v1/applications/${app}`)
        .set('Authorization', `Bearer ${tokenFor('member', 'pat', ['platform'])}`)
    ).status,
  ).toBe(404);
});

test.each([
  [
    'a transfer to the current owner',
    async (app: string) => put(app, { team: 'demo' }),
    409,
    'conflict',
    'already_owner',
  ],
  [
    'a team nobody has seen',
    async (app: string) => put(app, { team: 'paymnets' }),
    400,
    'validation_failed',
    'unknown_team',
  ],
  ['a malformed team', async (app: string) => put(app, { team: 'no spaces' }), 400, 'validation_failed', undefined],
  [
    'an application that does not exist upstream',
    async () => put('noSuchApplication', { team: 'demo' }),
    404,
    'not_found',
    'unknown_application',
  ],
  [
    'a caller without ownership.manage',
    async (app: string) => put(app, { team: 'platform' }, tokenFor('member', 'mallory', ['demo'])),
    403,
    'forbidden',
    'no_role_grants_permission',
  ],
])(
  'when an ownership change names %s, then it is refused, recorded, and nothing changes',
  async (_what, call, status, code, reason) => {
    const app = await ownedApplication(h, 'demo');
    const before = (await allEntries(h)).length;
    const res = await call(app);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
    if (reason) expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ reason })]));
    expect(await h.deps.ownership.store.ownerOf(app)).toMatchObject({ team: 'demo' });
    const written = (await allEntries(h)).slice(before);
    expect(written.map((e) => [e.kind, e.operation, e.errorCode])).toEqual([['decision', 'ownership.assign', code]]);
  },
);

test('when a new team is named with allow_new_team, then it gets its first application', async () => {
  const app = await ownedApplication(h, 'demo');
  expect((await put(app, { team: 'brand-new', allow_new_team: true })).body).toMatchObject({
    team: 'brand-new',
    previous_team: 'demo',
  });
});

test('when applications exist upstream without an owner, then /v1/ownership/unowned lists exactly those, paged', async () => {
  const unowned = [await ownedApplication(h, null, 'Legacy 1'), await ownedApplication(h, null, 'Legacy 2')];
  h.deps.ownership.directory.invalidate();
  const res = await h.api().get('/v1/ownership/unowned?page_size=1000').set('Authorization', `Bearer ${admin}`);
  const owners = await h.deps.ownership.store.allOwned();
  const expected = h.simulator.store
    .listApplications()
    .map((a) => a.id)
    .filter((id) => !owners.has(id))
    // Ordered by id, so that a cursor (the last id returned) pages through them whatever the upstream's order.
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  expect(res.body.objects.map((o: { id: string }) => o.id)).toEqual(expected);
  expect(expected).toEqual(expect.arrayContaining(unowned));
  const page2 = await h.api().get('/v1/ownership/unowned?page_size=1&page=2').set('Authorization', `Bearer ${admin}`);
  expect(page2.body).toMatchObject({ total: expected.length, count: 1, page: 2, objects: [{ id: expected[1] }] });
});

test('when pairs are imported, then new owners, transfers and unchanged pairs are applied and reported, each change audited', async () => {
  const [a, b, c] = [
    await ownedApplication(h, null),
    await ownedApplication(h, 'demo'),
    await ownedApplication(h, 'platform'),
  ];
  const before = (await allEntries(h)).length;
  const res = await h
    .api()
    .post('/v1/ownership/import')
    .set('Authorization', `Bearer ${admin}`)
    .send({
      pairs: [
        { application_id: a, team: 'demo' },
        { application_id: b, team: 'platform' },
        { application_id: c, team: 'platform' },
      ],
    });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ assigned: 1, transferred: 1, unchanged: 1, failed: 0 });
  expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['assigned', 'transferred', 'unchanged']);
  expect(await h.deps.ownership.store.ownersOf([a, b, c])).toEqual(
    new Map([
      [a, 'demo'],
      [b, 'platform'],
      [c, 'platform'],
    ]),
  );
  const written = (await allEntries(h)).slice(before);
  expect(
    written
      .filter((e) => e.kind === 'response')
      .map((e) => [e.applicationId, e.team, (e.details as { via: string }).via])
      .sort(),
  ).toEqual(
    [
      [a, 'demo', 'import'],
      [b, 'platform', 'import'],
    ].sort(),
  );
});

test('when an import holds an unknown application, an unknown team and a duplicate, then nothing is applied and every row is named', async () => {
  const [a, b] = [await ownedApplication(h, null), await ownedApplication(h, null)];
  const before = (await allEntries(h)).length;
  const res = await h
    .api()
    .post('/v1/ownership/import')
    .set('Authorization', `Bearer ${admin}`)
    .send({
      pairs: [
        { application_id: a, team: 'demo' },
        { application_id: 'ghostApp', team: 'demo' },
        { application_id: b, team: 'nobody-knows' },
        { application_id: a, team: 'demo' },
      ],
    });
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { field: string; code: string }) => `${d.field} ${d.code}`)).toEqual([
    'pairs.1 unknown_application',
    'pairs.2 unknown_team',
    'pairs.3 duplicate_application',
  ]);
  expect(await h.deps.ownership.store.ownersOf([a, b])).toEqual(new Map());
  expect((await allEntries(h)).slice(before).map((e) => [e.kind, e.operation])).toEqual([
    ['decision', 'ownership.import'],
  ]);
});

test('when an import holds more than 1,000 pairs, then it is refused as a whole', async () => {
  const pairs = Array.from({ length: 1_001 }, (_, i) => ({ application_id: `app${i}`, team: 'demo' }));
  const res = await h.api().post('/v1/ownership/import').set('Authorization', `Bearer ${admin}`).send({ pairs });
  expect(res.status).toBe(400);
  expect(res.body.error.details[0]).toMatchObject({ field: 'pairs', code: 'too_big' });
});

test("when a team-scoped auditor reads the trail, then it sees only events about its teams' applications", async () => {
  const mine = await ownedApplication(h, 'demo');
  const theirs = await ownedApplication(h, 'platform');
  const member = tokenFor('member', 'writer', ['demo', 'platform']);
  await h
    .api()
    .post(`/v1/applications/${mine}/webhooks`)
    .set('Authorization', `Bearer ${member}`)
    .send({ url: 'https://hooks.example.com/a' });
  await h
    .api()
    .post(`/v1/applications/${theirs}/webhooks`)
    .set('Authorization', `Bearer ${member}`)
    .send({ url: 'https://hooks.example.com/b' });
  const read = async (token: string, query: string) =>
    (await h.api().get(`/v1/audit/events?${query}`).set('Authorization', `Bearer ${token}`)).body.events as {
      target: { application_id: string };
      team: string;
    }[];
  const teamAuditor = tokenFor('team-auditor', 'tia', ['demo']);
  const seen = await read(teamAuditor, 'limit=1000');
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.filter((e) => e.team !== 'demo')).toEqual([]);
  expect(seen.map((e) => e.target.application_id)).toContain(mine);
  expect(await read(teamAuditor, `application_id=${theirs}`)).toEqual([]);
  const everything = await read(tokenFor('auditor', 'rita', []), `team=platform&application_id=${theirs}`);
  expect(everything.map((e) => e.team)).toEqual(['platform']);
  const other = (
    await h
      .api()
      .get(`/v1/audit/events?application_id=${theirs}&kind=mutation`)
      .set('Authorization', `Bearer ${tokenFor('auditor', 'rita', [])}`)
  ).body.events[0];
  expect(
    (await h.api().get(`/v1/audit/events/${other.sequence}`).set('Authorization', `Bearer ${teamAuditor}`)).status,
  ).toBe(404);
});
