import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEntry } from '../../src/audit/trail/entry';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { own, ownedApplication } from '../helpers/ownership';
import { signToken, TEST_ISSUER } from '../helpers/tokens';

/**
 * Issue 23's twelve findings, each where a second code path decided on its own, tried again through the one path:
 * a real gateway on a real database, the simulator as the upstream. Each test failed on the code before the issue.
 */
const OTHER_ISSUER = 'https://other-idp.test/';
const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-seams-')), 'policy.yaml');
writeFileSync(
  policyFile,
  [
    'approvals:',
    '  applications.delete: { approvals: 1 }',
    '  applications.create: { approvals: 1 }',
    '  webhooks.delete: { approvals: 2 }',
    'roles:',
    '  admin: { allow: ["*", apikeys.reveal, audit.read, ownership.manage], scope: any }',
    '  editor: { allow: ["applications.*", "webhooks.*", "apikeys.create"], scope: team }',
    '  steward: { allow: [applications.get, applications.list, ownership.manage], scope: team }',
    '  keyholder: { allow: ["apikeys.*"], scope: any }',
    '  reader: { allow: ["*.read", "*.list", "*.manage", "*.get"], scope: any }',
    '  viewer: { allow: [applications.get], scope: team }',
    '',
  ].join('\n'),
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { POLICY_FILE: policyFile, JWT_ISSUER: `${TEST_ISSUER},${OTHER_ISSUER}` } });
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});

const person = (sub: string, roles: string[], teams: string[] = [], claims: Record<string, unknown> = {}) =>
  signToken({ sub, roles, claims: { teams, ...claims } });
const call = (method: 'get' | 'post' | 'put' | 'delete' | 'patch', path: string, token: string) =>
  h.api()[method](path).set('Authorization', `Bearer ${token}`);
const act = (id: string, verb: 'approve' | 'deny' | 'cancel', token: string, body: object = {}) =>
  call('post', `/v1/approvals/${id}/${verb}`, token).send(body);
const entriesSince = async (seq: bigint) => (await allEntries(h)).filter((e) => e.seq > seq);
const head = async () => (await allEntries(h)).at(-1)?.seq ?? 0n;
const refusals = (entries: StoredEntry[]) => entries.filter((e) => e.kind === 'decision' || e.kind === 'access');

describe('finding 1: a team-scoped ownership.manage reaches only its own teams', () => {
  test("when a steward of team a reads, lists or moves another team's application, then 404 as everywhere, and /v1/me says team", async () => {
    const steward = person('stew', ['steward'], ['a', 'a2']);
    const theirs = await ownedApplication(h, 'b');
    const unowned = await ownedApplication(h, null);
    const mine = await ownedApplication(h, 'a');
    expect((await call('get', `/v1/ownership/applications/${theirs}`, steward)).status).toBe(404);
    const moved = await call('put', `/v1/ownership/applications/${theirs}`, steward).send({ team: 'a' });
    expect(moved.status).toBe(404);
    expect((await h.deps.ownership.store.ownerOf(theirs))?.team).toBe('b');
    expect((await call('put', `/v1/ownership/applications/${unowned}`, steward).send({ team: 'a' })).status).toBe(404);
    const list = await call('get', '/v1/ownership/unowned', steward);
    expect(list.status).toBe(200);
    expect(list.body.objects).toEqual([]);
    const away = await call('put', `/v1/ownership/applications/${mine}`, steward).send({
      team: 'b',
      allow_new_team: true,
    });
    expect(away.status).toBe(403);
    expect(away.body.error.details[0].reason).toBe('not_team_member');
    const within = await call('put', `/v1/ownership/applications/${mine}`, steward).send({
      team: 'a2',
      allow_new_team: true,
    });
    expect(within.status).toBe(200);
    const me = await call('get', '/v1/me', steward);
    expect(me.body.scopes['ownership.manage']).toBe('team');
  });
});

describe('finding 2: one rule decides self-approval and vote counting', () => {
  test('when two accounts with one email (any case) vote on a two-approval rule, then only one vote counts', async () => {
    const app = await ownedApplication(h, 'demo');
    const hook = h.simulator.store.createWebhook(app, 'https://hooks.example.com/x')!;
    const asked = await call('delete', `/v1/applications/${app}/webhooks/${hook.id}`, person('req2', ['admin']));
    expect(asked.status).toBe(202);
    const id = asked.body.approval.id as string;
    const first = await act(id, 'approve', person('one', ['admin'], [], { email: 'Same@Example.com' }));
    expect(first.status).toBe(200);
    const before = await head();
    const second = await act(id, 'approve', person('two', ['admin'], [], { email: ' same@example.COM ' }));
    expect(second.status).toBe(403);
    expect(second.body.error.details[0].reason).toBe('already_approved');
    expect(second.body.error ?? {}).toBeDefined();
    const read = await call('get', `/v1/approvals/${id}`, person('req2', ['admin']));
    expect(read.body.approval.state).toBe('pending');
    expect(read.body.approval.approvals).toHaveLength(1);
    const after = await entriesSince(before);
    expect(after.filter((e) => e.kind === 'approval' && e.operation === 'approval.approve')).toEqual([]);
    expect(refusals(after)).toHaveLength(1);
  });

  test('when the requester approves under another account with their email, then 403 self_approval', async () => {
    const app = await ownedApplication(h, 'demo');
    const asked = await call(
      'delete',
      `/v1/applications/${app}`,
      person('rq', ['admin'], [], { email: 'rq@example.com' }),
    );
    const res = await act(
      asked.body.approval.id,
      'approve',
      person('rq-alt', ['admin'], [], { email: 'RQ@example.com' }),
    );
    expect(res.status).toBe(403);
    expect(res.body.error.details[0].reason).toBe('self_approval');
  });
});

describe('finding 3: a pending create is decided like the create', () => {
  test('when an editor of another team looks at or approves a pending create, then it does not exist for them', async () => {
    const asked = await call('post', '/v1/applications', person('ea', ['editor'], ['a'])).send({
      name: 'Secret plans',
    });
    expect(asked.status).toBe(202);
    const id = asked.body.approval.id as string;
    const outsider = person('ec', ['editor'], ['c']);
    expect((await call('get', `/v1/approvals/${id}`, outsider)).status).toBe(404);
    expect((await act(id, 'approve', outsider)).status).toBe(404);
    const listed = await call('get', '/v1/approvals?limit=500', outsider);
    expect(listed.body.approvals.map((a: { id: string }) => a.id)).not.toContain(id);
    const colleague = person('ea2', ['editor'], ['a']);
    const approved = await act(id, 'approve', colleague);
    expect(approved.status).toBe(200);
    expect(approved.body.approval.state).toBe('executed');
  });
});

describe('finding 4: an approved request is decided again when it runs', () => {
  test('when the application moved to another team before approval, then the execution is refused, nothing is forwarded, and both teams see it', async () => {
    const app = await ownedApplication(h, 'a');
    const asked = await call('delete', `/v1/applications/${app}`, person('ea', ['editor'], ['a']));
    expect(asked.status).toBe(202);
    await own(h, app, 'b');
    const before = await head();
    h.simulator.clearRequests();
    const approved = await act(asked.body.approval.id, 'approve', person('eb', ['editor'], ['b']));
    expect(approved.status).toBe(200);
    expect(approved.body.approval.state).toBe('failed');
    expect(approved.body.approval.result.error).toBe('no_longer_allowed');
    expect(h.simulator.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    const after = await entriesSince(before);
    const moved = after.find((e) => e.operation === 'approval.target_moved');
    expect(moved).toMatchObject({ team: 'a' });
    const refused = after.find((e) => e.kind === 'decision' && e.operation === 'applications.delete');
    expect(refused).toMatchObject({ team: 'b', decision: 'denied', reason: 'not_owner' });
  });

  test('when the template of a pending create moved to another team, then the create does not run', async () => {
    const template = await ownedApplication(h, 'a', 'Template');
    const asked = await call('post', '/v1/applications', person('ea', ['editor'], ['a'])).send({
      name: 'From template',
      source: template,
    });
    expect(asked.status).toBe(202);
    await own(h, template, 'b');
    const created = h.simulator.store.listApplications().length;
    const approved = await act(asked.body.approval.id, 'approve', person('ea3', ['editor'], ['a']));
    expect(approved.body.approval).toMatchObject({ state: 'failed', result: { error: 'no_longer_allowed' } });
    expect(h.simulator.store.listApplications().length).toBe(created);
  });
});

describe('finding 5: a person is (issuer, subject)', () => {
  test("when a token of a second issuer has an admin's subject, then it sees and cancels none of their requests", async () => {
    const app = await ownedApplication(h, 'demo');
    const admin = person('shared-sub', ['admin']);
    const asked = await call('delete', `/v1/applications/${app}`, admin).set('X-Approval-Reason', 'private reason');
    const id = asked.body.approval.id as string;
    const impostor = signToken({ sub: 'shared-sub', issuer: OTHER_ISSUER, claims: { teams: [] } });
    const listed = await call('get', '/v1/approvals', impostor);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain('private reason');
    expect((await call('get', `/v1/approvals/${id}`, impostor)).status).toBe(404);
    expect((await act(id, 'cancel', impostor)).status).toBe(404);
    expect((await call('get', `/v1/approvals/${id}`, admin)).body.approval.state).toBe('pending');
    expect((await act(id, 'cancel', admin)).status).toBe(200);
  });
});

describe('finding 6: identity claims must be clean text', () => {
  test.each([
    ['a lone surrogate', 'x\ud800y'],
    ['NUL', 'x\u0000y'],
    ['a control character', 'x\u001by'],
  ])('when the sub holds %s, then 401 invalid_claim_text before anything else', async (_label, sub) => {
    const res = await call('get', '/v1/applications', signToken({ sub, roles: ['admin'] }));
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_token', details: [{ reason: 'invalid_claim_text' }] });
  });

  test('when the email or name holds NUL, then 401 too', async () => {
    for (const claims of [{ email: 'a\u0000@x' }, { name: 'Ada\u0000' }]) {
      const res = await call('get', '/v1/me', signToken({ sub: 'clean', roles: ['admin'], claims }));
      expect(res.status).toBe(401);
    }
  });
});

describe('finding 7: the trail holds approval entries only for changes that happened', () => {
  test('when a deny reason holds NUL, then 400, no approval.deny entry, and the request stays pending', async () => {
    const app = await ownedApplication(h, 'demo');
    const asked = await call('delete', `/v1/applications/${app}`, person('r7', ['admin']));
    const id = asked.body.approval.id as string;
    const before = await head();
    const res = await act(id, 'deny', person('d7', ['admin']), { reason: 'no\u0000pe' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].code).toBe('invalid_characters');
    const after = await entriesSince(before);
    expect(after.filter((e) => e.kind === 'approval' && e.operation === 'approval.deny')).toEqual([]);
    expect(refusals(after)).toHaveLength(1);
    expect((await call('get', `/v1/approvals/${id}`, person('r7', ['admin']))).body.approval.state).toBe('pending');
  });

  test('when approvals, denials and a cancel race, then one of them ends it, the others get 409, and each entry is a change', async () => {
    const app = await ownedApplication(h, 'demo');
    const requester = person('r7b', ['admin']);
    const asked = await call('delete', `/v1/applications/${app}`, requester);
    const id = asked.body.approval.id as string;
    const before = await head();
    const racers = [
      ...Array.from({ length: 6 }, (_, i) => act(id, 'deny', person(`den${i}`, ['admin']), { reason: 'no' })),
      ...Array.from({ length: 4 }, (_, i) => act(id, 'approve', person(`app${i}`, ['admin']))),
      act(id, 'cancel', requester),
    ];
    const answers = await Promise.all(racers);
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    const after = await entriesSince(before);
    const changes = after.filter((e) => e.kind === 'approval');
    const ends = changes.filter((e) => ['approval.deny', 'approval.cancel'].includes(e.operation ?? ''));
    const approves = changes.filter((e) => e.operation === 'approval.approve');
    const executed = after.some((e) => e.kind === 'request' && e.operation === 'applications.delete');
    // Exactly one way out: one deny, or one cancel, or an execution.
    expect(ends.length + (executed ? 1 : 0)).toBe(1);
    const row = await h.gateway.database.prisma.approvalVote.findMany({ where: { approvalId: id } });
    expect(approves).toHaveLength(row.length);
    expect(refusals(after).filter((e) => e.errorCode === 'conflict')).toHaveLength(
      statuses.filter((s) => s === 409).length,
    );
  });
});

describe('finding 8: lists filter before they limit', () => {
  test("when another team filed 1,000 requests since, then a team's pending request is still listed, and paging finds every one of its own", async () => {
    const mine: string[] = [];
    const theirs = await ownedApplication(h, 'noisy');
    const created = Date.now();
    for (let i = 0; i < 1000; i++) {
      await h.deps.approvals.store.create(newApproval(`noise-${i}`, theirs, 'noisy', new Date(created + i)));
      if (i % 40 === 0) {
        const app = await ownedApplication(h, 'quiet');
        mine.push((await h.deps.approvals.store.create(newApproval(`q-${i}`, app, 'quiet', new Date(created + i)))).id);
      }
    }
    const approver = person('quiet-approver', ['editor'], ['quiet']);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(
        'get',
        `/v1/approvals?state=pending&limit=10${cursor ? `&cursor=${cursor}` : ''}`,
        approver,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.approvals.map((a: { id: string }) => a.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen.sort()).toEqual([...mine].sort());
  });

  test('when 1,000 applications of other teams are in the way, then the unowned list pages through exactly the unowned ones', async () => {
    const unowned: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const app = h.simulator.store.createApplication({ name: `owned-${i}` });
      await own(h, app.id, `t${i % 7}`);
      if (i % 80 === 0) unowned.push(h.simulator.store.createApplication({ name: `loose-${i}` }).id);
    }
    h.deps.ownership.directory.invalidate();
    const admin = person('own-admin', ['admin']);
    const all = await call('get', '/v1/ownership/unowned?page_size=1000', admin);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call('get', `/v1/ownership/unowned?page_size=5${cursor ? `&cursor=${cursor}` : ''}`, admin);
      expect(res.status).toBe(200);
      seen.push(...res.body.objects.map((a: { id: string }) => a.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.body.objects.map((a: { id: string }) => a.id));
    expect(seen).toEqual(expect.arrayContaining(unowned));
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('finding 9: every refusal leaves one entry', () => {
  test.each([
    [
      'malformed JSON on approve',
      'post',
      '/v1/approvals/00000000-0000-4000-8000-000000000000/approve',
      '{"reason":',
      400,
    ],
    [
      'a body over 8 kB on deny',
      'post',
      '/v1/approvals/00000000-0000-4000-8000-000000000000/deny',
      JSON.stringify({ reason: 'x'.repeat(9000) }),
      413,
    ],
    ['malformed JSON on an ownership change', 'put', '/v1/ownership/applications/abc', '{', 400],
    ['a method a catalogued path does not take', 'put', '/v1/applications', '{}', 405],
  ] as const)('when %s, then one decision entry', async (_label, method, path, body, status) => {
    const before = await head();
    const res = await call(method, path, person('refused', ['admin']))
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(status);
    const after = refusals(await entriesSince(before));
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ kind: 'decision', actorSub: 'refused' });
  });

  test('when a policy explanation naming an application is refused, then it is recorded', async () => {
    const before = await head();
    const res = await call(
      'get',
      '/v1/policy/explain?role=admin&operation=applications.get&application_id=abc',
      person('v9', ['viewer'], ['demo']),
    );
    expect(res.status).toBe(403);
    expect(refusals(await entriesSince(before))).toHaveLength(1);
  });

  test("when break-glass is refused, then the entry carries the refusal's reason, not the grant before it", async () => {
    const app = await ownedApplication(h, 'demo');
    const before = await head();
    const res = await call('delete', `/v1/applications/${app}`, person('nb', ['admin'])).set(
      'X-Approval-Bypass',
      'urgent',
    );
    expect(res.status).toBe(403);
    const [entry] = refusals(await entriesSince(before));
    expect(entry).toMatchObject({ decision: 'denied', reason: 'no_role_grants_permission' });
  });
});

describe('finding 10: client input is never a server failure', () => {
  test.each(['actor', 'operation', 'application_id', 'request_id'])(
    'when the %s filter holds NUL, then 400 with an access entry and no error log line',
    async (filter) => {
      const before = await head();
      const errors = h.logs.lines.filter((l) => l.includes('"level":50')).length;
      const res = await call('get', `/v1/audit/events?${filter}=a%00b`, person('aud', ['admin']));
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].code).toBe('invalid_characters');
      expect(refusals(await entriesSince(before))).toMatchObject([{ kind: 'access', decision: 'denied' }]);
      expect(h.logs.lines.filter((l) => l.includes('"level":50')).length).toBe(errors);
    },
  );
});

describe('finding 11: wildcards grant Management operations only', () => {
  test('when a role holds apikeys.*, *.read and *.manage, then keys are masked and the trail and ownership are closed', async () => {
    const app = await ownedApplication(h, 'demo');
    h.simulator.store.createApiKey(app);
    const keys = await call('get', `/v1/applications/${app}/apikeys`, person('kh', ['keyholder']));
    expect(keys.status).toBe(200);
    for (const k of keys.body.objects) expect(k.key).toMatch(/^\*{4}/);
    const reader = person('rd', ['reader']);
    expect((await call('get', '/v1/audit/events', reader)).status).toBe(403);
    expect((await call('get', '/v1/ownership/unowned', reader)).status).toBe(403);
    expect(h.logs.lines.some((l) => l.includes('roles.keyholder.allow') && l.includes('apikeys.reveal'))).toBe(true);
    expect(h.logs.lines.some((l) => l.includes('roles.reader.allow') && l.includes('audit.read'))).toBe(true);
  });
});

describe('finding 12: one meter and one body reader for every action', () => {
  test('when an approval is acted on, then it is metered as a mutation and its body goes through the hardened reader', async () => {
    const res = await call(
      'post',
      '/v1/approvals/00000000-0000-4000-8000-000000000000/approve',
      person('m12', ['admin']),
    )
      .set('Content-Type', 'text/plain')
      .send('reason=x');
    expect(res.status).toBe(415);
    expect(String(res.headers.ratelimit)).toContain('"writes"');
  });
});

function newApproval(tag: string, applicationId: string, team: string, createdAt: Date) {
  return {
    id: crypto.randomUUID(),
    operation: 'applications.delete',
    method: 'DELETE',
    params: { application_id: applicationId },
    query: {},
    body: null,
    inputHash: tag,
    // Unique per request: one pending request per operation and target.
    target: `/v1/applications/${applicationId}#${tag}`,
    applicationId,
    team,
    requester: {
      issuer: TEST_ISSUER,
      sub: `${team}-requester`,
      email: null,
      name: null,
      roles: ['editor'],
      teams: [team],
    },
    reason: null,
    approvalsNeeded: 1,
    approverRoles: [],
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 3_600_000),
  };
}
