import fc from 'fast-check';
import { DEFAULT_BACKEND } from '../helpers/database';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { scopedPolicyFile } from '../helpers/ownership';
import { tokenFor } from '../helpers/tokens';

/**
 * Over random sequences of creates, transfers, deletes and reads by several teams, no response body a `team`-scoped
 * caller receives contains the id of an application its teams do not own at that moment. FUZZ_SEED replays a run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_202);
const TEAMS = ['ash', 'birch', 'cedar'];
type Action =
  | { kind: 'create'; team: number }
  | { kind: 'transfer'; app: number; team: number }
  | { kind: 'delete' | 'get' | 'webhooks' | 'list'; app: number; team: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), team: fc.nat(2) }),
  fc.record({ kind: fc.constantFrom('transfer' as const), app: fc.nat(50), team: fc.nat(2) }),
  fc.record({
    kind: fc.constantFrom('delete' as const, 'get' as const, 'webhooks' as const, 'list' as const),
    app: fc.nat(50),
    team: fc.nat(2),
  }),
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    backend: DEFAULT_BACKEND,
    env: { POLICY_FILE: scopedPolicyFile(), OWNERSHIP_LIST_MAX_AGE_MS: '0' },
  });
});
afterAll(async () => h.close());

test("when teams create, transfer, delete and read at random, then no team is ever shown another team's application id", async () => {
  const admin = tokenFor('admin', 'root', []);
  const ids: string[] = h.simulator.store.listApplications().map((a) => a.id);
  const runs = fc.sample(fc.array(action, { minLength: 40, maxLength: 40 }), { numRuns: 4, seed: SEED });
  let checked = 0;
  for (const actions of runs) {
    for (const a of actions) {
      const team = TEAMS[a.team] as string;
      const token = tokenFor('member', `m-${team}`, [team]);
      const app = 'app' in a ? (ids[a.app % Math.max(ids.length, 1)] ?? 'noApplicationYet') : undefined;
      let res;
      if (a.kind === 'create')
        res = await h
          .api()
          .post('/v1/applications')
          .set('Authorization', `Bearer ${token}`)
          .send({ name: `P ${team}` });
      else if (a.kind === 'transfer') {
        await h
          .api()
          .put(`/v1/ownership/applications/${app}`)
          .set('Authorization', `Bearer ${admin}`)
          .send({ team, allow_new_team: true });
        continue;
      } else if (a.kind === 'delete')
        res = await h.api().delete(`/v1/applications/${app}`).set('Authorization', `Bearer ${token}`);
      else if (a.kind === 'get')
        res = await h.api().get(`/v1/applications/${app}`).set('Authorization', `Bearer ${token}`);
      else if (a.kind === 'webhooks')
        res = await h.api().get(`/v1/applications/${app}/webhooks`).set('Authorization', `Bearer ${token}`);
      else res = await h.api().get('/v1/applications?page_size=1000').set('Authorization', `Bearer ${token}`);
      if (a.kind === 'create' && res.status === 201) ids.push(res.body.id);
      const owners = await h.deps.ownership.store.ownersOf(ids);
      const foreign = ids.filter((id) => owners.get(id) !== team && res.text.includes(id));
      expect({ action: a, status: res.status, foreign }).toEqual({ action: a, status: res.status, foreign: [] });
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(100);
  const verify = await h
    .api()
    .get('/v1/audit/verify')
    .set('Authorization', `Bearer ${tokenFor('auditor', 'rita', [])}`);
  expect(verify.body.ok).toBe(true);
  expect((await allEntries(h)).map((e) => e.reason)).toContain('not_owner');
}, 120_000);
