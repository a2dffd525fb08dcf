import fc from 'fast-check';
import { DEFAULT_BACKEND } from '../helpers/database';
import { startHarness, type Harness } from '../helpers/harness';
import { own, scopedPolicyFile } from '../helpers/ownership';
import { tokenFor } from '../helpers/tokens';

/**
 * A team's list is cut from every application upstream by the gateway: walking all its pages yields exactly the
 * team's applications, once each, with `total` and `count` consistent and no trace of other teams.
 * FUZZ_SEED=<seed> replays a run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);
const TEAMS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

let h: Harness;
const owners = new Map<string, string | null>();
beforeAll(async () => {
  h = await startHarness({ backend: DEFAULT_BACKEND, unowned: true, env: { POLICY_FILE: scopedPolicyFile() } });
  const random = fc.sample(fc.tuple(fc.constantFrom(...TEAMS, null), fc.boolean()), { numRuns: 300, seed: SEED });
  for (const [i, [team, active]] of random.entries()) {
    const app = h.simulator.store.createApplication({ name: `List ${i}` });
    if (!active) h.simulator.store.updateApplication(app.id, { active: false });
    owners.set(app.id, team);
    if (team) await own(h, app.id, team);
  }
}, 120_000);
afterAll(async () => h.close());

async function walk(token: string, pageSize: number, active?: 'True' | 'False') {
  const pages: { total: number; count: number; page: number; objects: { id: string; active: boolean }[] }[] = [];
  for (let page = 1; page < 1000; page++) {
    const res = await h
      .api()
      .get(`/v1/applications?page_size=${pageSize}&page=${page}${active ? `&active=${active}` : ''}`)
      .set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    pages.push(res.body);
    if (res.body.count < pageSize) break;
  }
  return pages;
}

const cases = TEAMS.flatMap((team) => [1, 7, 10, 50].map((size) => [team, size] as const));

test.each(cases)(
  'when team %s walks its list %i per page, then it gets exactly its applications, once each, with consistent totals',
  async (team, size) => {
    const pages = await walk(tokenFor('member', `m-${team}`, [team]), size);
    const expected = [...owners].filter(([, t]) => t === team).map(([id]) => id);
    const seen = pages.flatMap((p) => p.objects.map((o) => o.id));
    expect(seen).toEqual(
      h.simulator.store
        .listApplications()
        .map((a) => a.id)
        .filter((id) => expected.includes(id)),
    );
    for (const [i, p] of pages.entries()) {
      expect({ total: p.total, page: p.page }).toEqual({ total: expected.length, page: i + 1 });
      expect(p.count).toBe(p.objects.length);
      if (i < pages.length - 1) expect(p.count).toBe(size);
    }
  },
);

test('when a caller in two teams filters by active, then total counts its active applications of both teams', async () => {
  const pages = await walk(tokenFor('member', 'two', ['alpha', 'beta']), 10, 'True');
  const expected = h.simulator.store
    .listApplications(true)
    .map((a) => a.id)
    .filter((id) => ['alpha', 'beta'].includes(owners.get(id) ?? ''));
  expect(pages.flatMap((p) => p.objects.map((o) => o.id))).toEqual(expected);
  expect(pages[0]!.total).toBe(expected.length);
  expect(expected.length).toBeLessThan([...owners.values()].filter((t) => t === 'alpha' || t === 'beta').length);
});

test('when a caller in no team lists, then the list is empty and says so', async () => {
  const res = await h
    .api()
    .get('/v1/applications')
    .set('Authorization', `Bearer ${tokenFor('member', 'nobody', [])}`);
  expect(res.body).toEqual({ total: 0, count: 0, page: 1, objects: [] });
});

test('when an any-scoped caller lists, then the upstream answers as it is, unowned applications included', async () => {
  const res = await h
    .api()
    .get('/v1/applications?page_size=1000')
    .set('Authorization', `Bearer ${tokenFor('global', 'g', [])}`);
  expect(res.body.total).toBe(h.simulator.store.listApplications().length);
});

test('when an application is renamed or deleted outside the gateway, then a team list shows it so within OWNERSHIP_LIST_MAX_AGE_MS', async () => {
  const [id] = [...owners].find(([, t]) => t === 'gamma')!;
  const token = tokenFor('member', 'gam', ['gamma']);
  await walk(token, 1000); // the directory now holds the application
  h.simulator.store.updateApplication(id, { name: 'Renamed outside' });
  h.deps.ownership.directory.invalidate(); // what OWNERSHIP_LIST_MAX_AGE_MS passing does; the directory test checks the clock
  const renamed = (await walk(token, 1000))[0]!.objects.find((o) => o.id === id) as { name?: string } | undefined;
  expect(renamed?.name).toBe('Renamed outside');
  h.simulator.store.deleteApplication(id);
  h.deps.ownership.directory.invalidate();
  expect((await walk(token, 1000))[0]!.objects.map((o) => o.id)).not.toContain(id);
  owners.delete(id);
});
