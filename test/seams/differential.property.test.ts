import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../helpers/harness';
import { own } from '../helpers/ownership';
import { signToken, TEST_ISSUER } from '../helpers/tokens';

/**
 * Issue 23's differential property: a small reference model of the policy, written here from
 * docs/access-control.md and the README (nothing imported from src/), agrees with the real gateway on allow or deny
 * for random policies, people, actions, targets and ownership histories, through the three paths: a direct request,
 * acting on an approval request, and an approved request's execution after random transfers. One gateway; each run
 * writes a new POLICY_FILE and reloads it (SIGHUP). FUZZ_SEED replays a run, FUZZ_RUNS sets how many policies.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_208);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const OTHER_ISSUER = 'https://other-idp.test/';

// ---------------------------------------------------------------------------------------------------------------
// The model, from the docs.
// ---------------------------------------------------------------------------------------------------------------

/** "The 12 Management operations" (README, The operations). */
const OPERATIONS = [
  'applications.list',
  'applications.create',
  'applications.get',
  'applications.update',
  'applications.delete',
  'apikeys.list',
  'apikeys.create',
  'apikeys.delete',
  'webhooks.list',
  'webhooks.create',
  'webhooks.get',
  'webhooks.delete',
] as const;
type Operation = (typeof OPERATIONS)[number];
/** What can be guarded: "operators can guard any mutating operation". */
const MUTATIONS: readonly Operation[] = [
  'applications.create',
  'applications.update',
  'applications.delete',
  'apikeys.create',
  'apikeys.delete',
  'webhooks.create',
  'webhooks.delete',
];
/** "granted by name only, never by `*`, `*.read`, `*.manage` or `apikeys.*`". */
const GATEWAY_PERMISSIONS = ['apikeys.reveal', 'audit.read', 'ownership.manage', 'approvals.bypass'] as const;

type Scope = 'team' | 'any';
interface PolicyDoc {
  approvals?: Record<string, { approvals: number; approvers?: string[] }>;
  roles: Record<string, { allow: string[]; scope?: Scope }>;
}
interface Person {
  issuer: string;
  sub: string;
  email: string | null;
  roles: string[];
  teams: string[];
}

/** "wildcards such as `applications.*`, `*.list` and `*` expand against the 12 Management operations only". */
function patternGrants(pattern: string, permission: string): boolean {
  if (!pattern.includes('*')) return pattern === permission;
  if (!(OPERATIONS as readonly string[]).includes(permission)) return false;
  const regex = new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`);
  return regex.test(permission);
}
const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/**
 * Default deny; a caller's roles give the union of their grants; "the widest scope among them applies"; a role that
 * does not say is `team`. Undefined: no role grants it.
 */
function scopeOf(policy: PolicyDoc, roles: readonly string[], permission: string): Scope | undefined {
  let scope: Scope | undefined;
  for (const role of roles) {
    const r = Object.hasOwn(policy.roles, role) ? policy.roles[role] : undefined;
    if (!r || !r.allow.some((p) => patternGrants(p, permission))) continue;
    if ((r.scope ?? 'team') === 'any') return 'any';
    scope = 'team';
  }
  return scope;
}

/** `team` reaches "only applications owned by one of the caller's teams"; `any` every application, unowned too. */
const reaches = (scope: Scope, teams: readonly string[], owner: string | null) =>
  scope === 'any' || (owner !== null && teams.includes(owner));

/** "absent: the built-in rule below (applications.delete: one approval); `approvals: {}` guards nothing". */
function ruleOf(policy: PolicyDoc, op: Operation): { needed: number; approvers: string[] } | undefined {
  const rules = policy.approvals ?? { 'applications.delete': { approvals: 1 } };
  const rule = Object.hasOwn(rules, op) ? rules[op] : undefined;
  return rule && rule.approvals > 0 ? { needed: rule.approvals, approvers: rule.approvers ?? [] } : undefined;
}

/** `denied`: refused, where the docs do not say whether 403 or 404. */
type Outcome = 'forwarded' | 'queued' | 'denied' | 400 | 403 | 404;

interface DirectCall {
  op: Operation;
  /** The owner of the application the path names (null: unowned). */
  owner: string | null;
  /** A create's X-Team header. */
  xTeam?: string;
  /** A create's `source` template and its owner. */
  source?: { owner: string | null };
  bypass: boolean;
}

/** The team a create's application will belong to, or the refusal (Teams and ownership, "Creating"). */
function createTeam(person: Person, scope: Scope, xTeam: string | undefined): string | 400 | 403 {
  if (xTeam !== undefined) return scope === 'team' && !person.teams.includes(xTeam) ? 403 : xTeam;
  if (person.teams.length === 1) return person.teams[0] as string;
  if (person.teams.length === 0 && scope === 'team') return 403;
  return 400;
}

/** A direct request: the role (403), the target (404, as if it did not exist), then the two-person rule. */
function decideDirect(policy: PolicyDoc, person: Person, call: DirectCall): Outcome {
  const scope = scopeOf(policy, person.roles, call.op);
  if (scope === undefined) return 403;
  if (call.op === 'applications.list') return 'forwarded';
  let team: string | null;
  if (call.op === 'applications.create') {
    const chosen = createTeam(person, scope, call.xTeam);
    if (typeof chosen === 'number') return chosen;
    team = chosen;
    if (call.source) {
      const keys = scopeOf(policy, person.roles, 'apikeys.create');
      if (keys === undefined) return 403;
      if (!reaches(keys, person.teams, call.source.owner)) return 404;
    }
  } else {
    if (!reaches(scope, person.teams, call.owner)) return 404;
    team = call.owner;
  }
  if (!ruleOf(policy, call.op)) return 'forwarded';
  if (!call.bypass) return 'queued';
  // Break-glass: approvals.bypass, by name, with its scope reaching the target like every permission.
  const bypass = scopeOf(policy, person.roles, 'approvals.bypass');
  if (bypass === undefined) return 403;
  const target = call.op === 'applications.create' ? team : call.owner;
  return bypass === 'any' || (target !== null && person.teams.includes(target)) ? 'forwarded' : 'denied';
}

const canonicalEmail = (e: string | null) => e?.normalize('NFC').trim().toLowerCase() || undefined;
/** "A person is (issuer, subject)". */
const samePerson = (a: Person, b: Person) => a.issuer === b.issuer && a.sub === b.sub;
/** Where being the same person restricts, "an account with the same email address ... is the same person too". */
const mayBeSamePerson = (a: Person, b: Person) =>
  samePerson(a, b) || (canonicalEmail(a.email) !== undefined && canonicalEmail(a.email) === canonicalEmail(b.email));

interface PendingModel {
  op: Operation;
  requester: Person;
  /** The team as requested: the owner then, or the team a create will give the application to. */
  team: string | null;
  needed: number;
  approvers: string[];
  votes: Person[];
  /** A create's template. */
  hasSource: boolean;
}

/** Whether `p` may do `op` on the request's target as it stands now (owner now; a create: the team it will get). */
function allowedOnTarget(policy: PolicyDoc, p: Person, a: PendingModel, ownerNow: string | null): boolean {
  const scope = scopeOf(policy, p.roles, a.op);
  if (scope === undefined) return false;
  if (a.op === 'applications.create') return scope === 'any' || (a.team !== null && p.teams.includes(a.team));
  return reaches(scope, p.teams, ownerNow);
}

/** "Who may approve", as a refusal (undefined: may approve or deny). */
function approverRefusal(
  policy: PolicyDoc,
  a: PendingModel,
  p: Person,
  ownerNow: string | null,
): 'self' | 'already' | 'not_allowed' | 'not_approver' | undefined {
  if (mayBeSamePerson(a.requester, p)) return 'self';
  if (a.votes.some((v) => !samePerson(v, p) && mayBeSamePerson(v, p))) return 'already';
  if (!allowedOnTarget(policy, p, a, ownerNow)) return 'not_allowed';
  if (a.approvers.length > 0 && !p.roles.some((r) => a.approvers.includes(r))) return 'not_approver';
  return undefined;
}

/**
 * "Who sees what": the requester, whoever voted, approvers what they may approve, `audit.read` holders (a team-scoped
 * one: requests about its teams, as requested or as owned now). Undefined where the docs do not say (an account
 * sharing the requester's or a voter's email).
 */
function visible(policy: PolicyDoc, a: PendingModel, p: Person, ownerNow: string | null): boolean | undefined {
  if (samePerson(a.requester, p) || a.votes.some((v) => samePerson(v, p))) return true;
  const reader = scopeOf(policy, p.roles, 'audit.read');
  if (reader === 'any') return true;
  // A create's request is about the team it will give the application to; any other, its application's owner.
  const about = a.op === 'applications.create' ? [a.team] : [a.team, ownerNow];
  if (reader === 'team' && about.some((t) => t !== null && p.teams.includes(t))) return true;
  const refusal = approverRefusal(policy, a, p, ownerNow);
  if (refusal === undefined) return true;
  return refusal === 'self' || refusal === 'already' ? undefined : false;
}

type Verb = 'approve' | 'deny' | 'cancel';

function decideAct(policy: PolicyDoc, a: PendingModel, verb: Verb, p: Person, ownerNow: string | null): Outcome {
  const sees = visible(policy, a, p, ownerNow);
  if (verb === 'approve' && a.votes.some((v) => samePerson(v, p))) return 'forwarded'; // "Approving twice counts once"
  const refused =
    verb === 'cancel' ? !samePerson(a.requester, p) : approverRefusal(policy, a, p, ownerNow) !== undefined;
  if (!refused) return 'forwarded';
  return sees === undefined ? 'denied' : sees ? 403 : 404;
}

/**
 * "Decided again when it runs": the requester (as stored) still allowed the operation on the target now (a create's
 * template as owned now), and enough counted approvers (each person once) still allowed to approve it now.
 */
function decideExecution(
  policy: PolicyDoc,
  a: PendingModel,
  ownerNow: string | null,
  sourceOwnerNow: string | null,
): 'executed' | 'no_longer_allowed' {
  if (!allowedOnTarget(policy, a.requester, a, ownerNow)) return 'no_longer_allowed';
  if (a.hasSource) {
    const keys = scopeOf(policy, a.requester.roles, 'apikeys.create');
    if (keys === undefined || !reaches(keys, a.requester.teams, sourceOwnerNow)) return 'no_longer_allowed';
  }
  const counted: Person[] = [];
  for (const v of a.votes) {
    if (counted.some((c) => mayBeSamePerson(c, v))) continue;
    if (approverRefusal(policy, { ...a, votes: [] }, v, ownerNow) === undefined) counted.push(v);
  }
  return counted.length >= a.needed ? 'executed' : 'no_longer_allowed';
}

// ---------------------------------------------------------------------------------------------------------------
// Random inputs.
// ---------------------------------------------------------------------------------------------------------------

const TEAMS = ['a', 'b', 'c'] as const;
/** An owner index: a team, or 3 for "no team owns it". */
const OWNERS = [0, 1, 2, 3] as const;
const ownerName = (i: number): string | null => TEAMS[i] ?? null;
const ROLE_NAMES = ['alpha', 'beta', 'gamma', 'delta'];
const PATTERNS = [
  ...OPERATIONS,
  ...GATEWAY_PERMISSIONS,
  'applications.*',
  'apikeys.*',
  'webhooks.*',
  '*.list',
  '*.get',
  '*.create',
  '*.delete',
  '*.update',
  '*',
  // Wildcards that spell a gateway permission but grant none (or only operations).
  '*.read',
  '*.manage',
  '*.reveal',
  '*.bypass',
  'approvals.*',
  'a*',
  '*s.delete',
];

/** Patterns that grant much, so that allowed cases are as common as refused ones. */
const BROAD = [
  '*',
  'applications.*',
  'webhooks.*',
  'apikeys.*',
  '*.delete',
  '*.create',
  'approvals.bypass',
  'audit.read',
];

const roleArb = fc.record(
  {
    allow: fc.uniqueArray(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...BROAD) },
        { weight: 5, arbitrary: fc.constantFrom(...PATTERNS) },
      ),
      { maxLength: 6 },
    ),
    scope: fc.constantFrom<Scope | undefined>('team', 'any', undefined),
  },
  { requiredKeys: ['allow'] },
);

const policyArb: fc.Arbitrary<PolicyDoc> = fc
  .uniqueArray(fc.constantFrom(...ROLE_NAMES), { minLength: 1, maxLength: 4 })
  .chain((names) =>
    fc
      .record({
        roles: fc.tuple(...names.map(() => roleArb)),
        approvals: fc.option(
          fc.uniqueArray(
            fc.record({
              op: fc.constantFrom(...MUTATIONS),
              approvals: fc.constantFrom(0, 1, 1, 1, 1, 2, 2),
              approvers: fc.option(fc.subarray(names, { minLength: 1 }), { nil: undefined, freq: 3 }),
            }),
            { minLength: 1, maxLength: 4, selector: (r) => r.op },
          ),
          { nil: undefined, freq: 5 },
        ),
      })
      .map(({ roles, approvals }) => {
        const doc: PolicyDoc = {
          roles: Object.fromEntries(names.map((n, i) => [n, JSON.parse(JSON.stringify(roles[i]))])),
        };
        if (approvals)
          doc.approvals = Object.fromEntries(
            approvals.map(({ op, approvals: n, approvers }) => [
              op,
              approvers ? { approvals: n, approvers } : { approvals: n },
            ]),
          );
        return doc;
      }),
  );

/** People holding some of the policy's roles (and `ghost`, a role no policy names), in up to three teams. */
const peopleArb = (policy: PolicyDoc): fc.Arbitrary<Person[]> =>
  fc.uniqueArray(
    fc.record({
      issuer: fc.constantFrom(TEST_ISSUER, TEST_ISSUER, TEST_ISSUER, OTHER_ISSUER),
      sub: fc.constantFrom('ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus'),
      email: fc.constantFrom(null, null, 'x@example.com', ' X@Example.COM', 'y@example.com'),
      roles: fc.subarray([...Object.keys(policy.roles), 'ghost'], { minLength: 1 }),
      teams: fc.subarray([...TEAMS]),
    }),
    { minLength: 4, maxLength: 8, selector: (p) => `${p.issuer} ${p.sub}` },
  );

const xTeamArb = fc.constantFrom(undefined, undefined, 'a', 'b', 'c', 'zeta');
const directArb = fc.record({
  who: fc.nat(),
  op: fc.constantFrom(...OPERATIONS),
  owner: fc.constantFrom(...OWNERS),
  xTeam: xTeamArb,
  source: fc.option(fc.constantFrom(...OWNERS), { nil: undefined, freq: 3 }),
  bypass: fc.boolean(),
});
type DirectProbe = typeof directArb extends fc.Arbitrary<infer T> ? T : never;

const transferArb = fc.record({ kind: fc.constant('transfer' as const), team: fc.constantFrom(0, 1, 2) });
const stepArb = fc.oneof(
  { weight: 2, arbitrary: transferArb },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('act' as const), verb: fc.constant<Verb>('approve'), who: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('act' as const),
      verb: fc.constantFrom<Verb>('deny', 'cancel'),
      who: fc.nat(),
    }),
  },
);
const scenarioArb = fc.record({
  who: fc.nat(),
  op: fc.nat(),
  owner: fc.constantFrom(...OWNERS),
  xTeam: xTeamArb,
  source: fc.option(fc.constantFrom(...OWNERS), { nil: undefined }),
  // Often a transfer or two before anyone acts: the execution then decides on a target that moved.
  steps: fc
    .tuple(fc.array(transferArb, { maxLength: 2 }), fc.array(stepArb, { minLength: 1, maxLength: 6 }))
    .map(([moves, steps]) => [...moves, ...steps]),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

const caseArb = policyArb.chain((policy) =>
  fc.record({
    policy: fc.constant(policy),
    people: peopleArb(policy),
    direct: fc.array(directArb, { minLength: 50, maxLength: 70 }),
    scenarios: fc.array(scenarioArb, { minLength: 8, maxLength: 12 }),
  }),
);

/**
 * Picks the `n`th of `all`, two times in three among those `prefer` holds for (when there are any): the model chooses
 * who acts, so that allowed actions are common, but never what the gateway should answer.
 */
function pick<T>(all: readonly T[], n: number, prefer: (t: T) => boolean): T {
  const preferred = all.filter(prefer);
  const from = n % 3 !== 2 && preferred.length > 0 ? preferred : all;
  return from[Math.floor(n / 3) % from.length] as T;
}

// ---------------------------------------------------------------------------------------------------------------
// The gateway.
// ---------------------------------------------------------------------------------------------------------------

const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-differential-')), 'policy.json');
writeFileSync(policyFile, JSON.stringify({ roles: { nobody: { allow: [] } } }));

let h: Harness;
/** One application per owner (a, b, c, none) for the actions that leave it standing, with a webhook. */
const pool: { app: string; webhook: string }[] = [];
beforeAll(async () => {
  h = await startHarness({ env: { POLICY_FILE: policyFile, JWT_ISSUER: `${TEST_ISSUER},${OTHER_ISSUER}` } });
  for (const i of OWNERS) pool.push(await freshApplication(i));
});
afterAll(async () => h.close());

async function freshApplication(owner: number): Promise<{ app: string; webhook: string }> {
  const app = h.simulator.store.createApplication({ name: `Differential ${owner}` }).id;
  const team = ownerName(owner);
  if (team) await own(h, app, team);
  const webhook = h.simulator.store.createWebhook(app, 'https://hooks.example.com/d')!.id;
  return { app, webhook };
}

const tokenOf = (p: Person) =>
  signToken({
    sub: p.sub,
    issuer: p.issuer,
    roles: p.roles,
    claims: { teams: p.teams, ...(p.email === null ? {} : { email: p.email }) },
  });

/** Sends a Management call; `app` is the application the path names (fresh for deletes, from the pool otherwise). */
async function send(token: string, op: Operation, app: string, webhook: string, extra: SendExtra) {
  const agent = h.api();
  const base = `/v1/applications/${app}`;
  const req = (() => {
    switch (op) {
      case 'applications.list':
        return agent.get('/v1/applications');
      case 'applications.create':
        return agent.post('/v1/applications');
      case 'applications.get':
        return agent.get(base);
      case 'applications.update':
        return agent.patch(base);
      case 'applications.delete':
        return agent.delete(base);
      case 'apikeys.list':
        return agent.get(`${base}/apikeys`);
      case 'apikeys.create':
        return agent.post(`${base}/apikeys`);
      case 'apikeys.delete':
        return agent.delete(`${base}/apikeys/${h.simulator.store.createApiKey(app)!.key}`);
      case 'webhooks.list':
        return agent.get(`${base}/webhooks`);
      case 'webhooks.create':
        return agent.post(`${base}/webhooks`);
      case 'webhooks.get':
        return agent.get(`${base}/webhooks/${webhook}`);
      case 'webhooks.delete':
        return agent.delete(
          `${base}/webhooks/${h.simulator.store.createWebhook(app, 'https://hooks.example.com/x')!.id}`,
        );
    }
  })().set('Authorization', `Bearer ${token}`);
  if (extra.xTeam !== undefined) req.set('X-Team', extra.xTeam);
  if (extra.bypass) req.set('X-Approval-Bypass', 'differential test');
  const body =
    op === 'applications.create'
      ? { name: 'Differential', ...(extra.source ? { source: extra.source } : {}) }
      : op === 'applications.update'
        ? { name: 'Renamed' }
        : op === 'webhooks.create'
          ? { url: 'https://hooks.example.com/new' }
          : op === 'apikeys.create'
            ? {}
            : undefined;
  return body === undefined ? req : req.send(body);
}
interface SendExtra {
  xTeam?: string;
  source?: string;
  bypass?: boolean;
}

/** The gateway's answer in the model's terms; anything else (409, 429, 5xx) is reported as it is. */
function observed(status: number): Outcome | number {
  if (status === 202) return 'queued';
  if (status >= 200 && status < 300) return 'forwarded';
  return status;
}
const agrees = (expected: Outcome, actual: Outcome | number) =>
  expected === actual || (expected === 'denied' && (actual === 403 || actual === 404));

const tallies = new Map<string, number>();
const tally = (what: string) => tallies.set(what, (tallies.get(what) ?? 0) + 1);

/** The case as a reader needs it to replay the disagreement by hand. */
function disagreement(what: string, context: Record<string, unknown>): Error {
  return new Error(`${what}\n${JSON.stringify(context, null, 2)}`);
}

async function loadPolicy(policy: PolicyDoc): Promise<void> {
  writeFileSync(policyFile, JSON.stringify(policy));
  await h.gateway.reload('SIGHUP');
  // A generated policy the gateway refused would be the generator's mistake, not a finding.
  expect(h.deps.policy().document).toEqual(policy);
}

async function checkDirect(policy: PolicyDoc, people: Person[], probe: DirectProbe): Promise<void> {
  const person = people[probe.who % people.length] as Person;
  // Deleted, or a guarded request whose target must not collide with another one running alongside (409).
  const fresh = probe.op === 'applications.delete' || ruleOf(policy, probe.op) !== undefined;
  const { app, webhook } = fresh ? await freshApplication(probe.owner) : (pool[probe.owner] as (typeof pool)[number]);
  const create = probe.op === 'applications.create';
  const source = create && probe.source !== undefined ? pool[probe.source]?.app : undefined;
  const call: DirectCall = {
    op: probe.op,
    owner: ownerName(probe.owner),
    ...(create && probe.xTeam !== undefined ? { xTeam: probe.xTeam } : {}),
    ...(create && probe.source !== undefined ? { source: { owner: ownerName(probe.source) } } : {}),
    bypass: probe.bypass,
  };
  const expected = decideDirect(policy, person, call);
  const token = tokenOf(person);
  const res = await send(token, probe.op, app, webhook, { xTeam: call.xTeam, source, bypass: probe.bypass });
  const actual = observed(res.status);
  tally(`direct ${String(actual)}`);
  if (!agrees(expected, actual))
    throw disagreement(`direct request: the model says ${expected}, the gateway answered ${res.status}`, {
      policy,
      person,
      call,
      answer: res.body,
    });
  // A queued request is cancelled by its requester, so the next one for the same target is not a 409.
  if (actual === 'queued') {
    const cancel = await h
      .api()
      .post(`/v1/approvals/${res.body.approval.id}/cancel`)
      .set('Authorization', `Bearer ${token}`)
      .send({});
    expect(cancel.status).toBe(200);
  }
}

/** The guarded operation a scenario asks for (undefined: the policy guards nothing). */
function scenarioOperation(policy: PolicyDoc, s: Scenario): Operation | undefined {
  const guarded = MUTATIONS.filter((op) => ruleOf(policy, op));
  return guarded[s.op % Math.max(guarded.length, 1)];
}

async function checkScenario(policy: PolicyDoc, people: Person[], s: Scenario): Promise<number> {
  const op = scenarioOperation(policy, s);
  if (op === undefined) return 0;
  const rule = ruleOf(policy, op) as { needed: number; approvers: string[] };
  const create = op === 'applications.create';
  const call: DirectCall = {
    op,
    owner: ownerName(s.owner),
    ...(create && s.xTeam !== undefined ? { xTeam: s.xTeam } : {}),
    ...(create && s.source !== undefined ? { source: { owner: ownerName(s.source) } } : {}),
    bypass: false,
  };
  const requester = pick(people, s.who, (p) => decideDirect(policy, p, call) === 'queued');
  const target = create ? (pool[0] as (typeof pool)[number]) : await freshApplication(s.owner);
  // A create moves its template between teams; every other operation, its application.
  const template = create && s.source !== undefined ? await freshApplication(s.source) : undefined;
  const history: unknown[] = [];
  let owner = ownerName(s.owner);
  const expected = decideDirect(policy, requester, call);
  const asked = await send(tokenOf(requester), op, target.app, target.webhook, {
    xTeam: call.xTeam,
    source: template?.app,
  });
  tally(`request ${String(observed(asked.status))}`);
  const context = () => ({ policy, people, requester, op, rule, call, history });
  if (!agrees(expected, observed(asked.status)))
    throw disagreement(`approval request: the model says ${expected}, the gateway answered ${asked.status}`, {
      ...context(),
      call,
      answer: asked.body,
    });
  if (expected !== 'queued') return 1;
  const id = asked.body.approval.id as string;
  const pending: PendingModel = {
    op,
    requester,
    team: create ? (s.xTeam ?? (requester.teams[0] as string)) : owner,
    needed: rule.needed,
    approvers: rule.approvers,
    votes: [],
    hasSource: template !== undefined,
  };
  // What transfers move: a create's template (a create without one has nothing to move), else the application.
  const moved = create ? template : target;
  let sourceOwner = template ? ownerName(s.source as number) : null;
  let checked = 1;
  for (const step of s.steps) {
    if (step.kind === 'transfer') {
      const team = TEAMS[step.team] as string;
      const current = create ? sourceOwner : owner;
      if (!moved || current === team) continue;
      await own(h, moved.app, team);
      if (create) sourceOwner = team;
      else owner = team;
      history.push({ transfer: team });
      tally('transfer');
      continue;
    }
    const actor = pick(
      people,
      step.who,
      (p) =>
        decideAct(policy, pending, step.verb, p, owner) === 'forwarded' && !pending.votes.some((v) => samePerson(v, p)),
    );
    const want = decideAct(policy, pending, step.verb, actor, owner);
    const res = await h
      .api()
      .post(`/v1/approvals/${id}/${step.verb}`)
      .set('Authorization', `Bearer ${tokenOf(actor)}`)
      .send(step.verb === 'deny' ? { reason: 'no' } : {});
    history.push({ [step.verb]: actor, status: res.status });
    tally(`${step.verb} ${res.status}`);
    checked++;
    if (!agrees(want, observed(res.status)))
      throw disagreement(`${step.verb}: the model says ${want}, the gateway answered ${res.status}`, {
        ...context(),
        answer: res.body,
      });
    if (want !== 'forwarded') continue;
    if (step.verb !== 'approve') return checked;
    if (!pending.votes.some((v) => samePerson(v, actor))) pending.votes.push(actor);
    const state = res.body.approval.state as string;
    if (pending.votes.length < pending.needed) {
      if (state !== 'pending')
        throw disagreement(`approve: the model says pending, the gateway says ${state}`, {
          ...context(),
          answer: res.body,
        });
      continue;
    }
    const ran = decideExecution(policy, pending, owner, sourceOwner);
    const seen =
      state === 'executed' ? 'executed' : state === 'failed' ? String(res.body.approval.result?.error) : state;
    tally(`execution ${seen}`);
    if (seen !== ran)
      throw disagreement(`execution: the model says ${ran}, the gateway says ${seen}`, {
        ...context(),
        answer: res.body,
      });
    return checked + 1;
  }
  // Still pending: its requester cancels it, so the next request for the same target (every create's is
  // /v1/applications) is not refused 409 approval_pending.
  const cancel = await h
    .api()
    .post(`/v1/approvals/${id}/cancel`)
    .set('Authorization', `Bearer ${tokenOf(requester)}`)
    .send({});
  expect(cancel.status).toBe(200);
  return checked;
}

const CONCURRENCY = 8;

/** Answers each path must have given at least once. */
const COVERED = [
  'direct forwarded',
  'direct queued',
  'direct 403',
  'direct 404',
  'request queued',
  'approve 200',
  'approve 403',
  'approve 404',
  'transfer',
  'execution executed',
  'execution no_longer_allowed',
];

/** Runs `check` over `items`, CONCURRENCY at a time; the first failure fails the whole. */
async function inParallel<T, R>(items: readonly T[], check: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += CONCURRENCY)
    results.push(...(await Promise.all(items.slice(i, i + CONCURRENCY).map(check))));
  return results;
}

function split<T>(items: readonly T[], first: (item: T) => boolean): [T[], T[]] {
  return [items.filter(first), items.filter((i) => !first(i))];
}

test('when random policies, people, actions, targets and ownership histories are tried, then the model and the gateway agree on every allow and deny, on all three paths', async () => {
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ policy, people, direct, scenarios }) => {
      await loadPolicy(policy);
      // Every pending create has one target (/v1/applications): those run one at a time, the rest side by side.
      const createWaits = (op: Operation | undefined) =>
        op === 'applications.create' && ruleOf(policy, op) !== undefined;
      const [serialDirect, parallelDirect] = split(direct, (p) => createWaits(p.op));
      await inParallel(parallelDirect, (p) => checkDirect(policy, people, p));
      for (const p of serialDirect) await checkDirect(policy, people, p);
      cases += direct.length;
      const [serial, parallel] = split(scenarios, (s) => createWaits(scenarioOperation(policy, s)));
      cases += (await inParallel(parallel, (s) => checkScenario(policy, people, s))).reduce((a, b) => a + b, 0);
      for (const s of serial) cases += await checkScenario(policy, people, s);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  // The inputs reached every kind of answer on every path: a model and a gateway that refused everything would
  // agree too.
  const seen = Object.fromEntries(tallies);
  expect({ missing: COVERED.filter((kind) => !seen[kind]), seen }).toEqual({ missing: [], seen });
  expect(cases).toBeGreaterThanOrEqual(RUNS * 50);
}, 240_000);
