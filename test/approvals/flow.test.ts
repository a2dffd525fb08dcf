import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { ownedApplication } from '../helpers/ownership';
import { signToken, TEST_ISSUER, tokenFor } from '../helpers/tokens';
import { waitFor } from '../helpers/async';

/** The two-person rule end to end: real gateway, real Postgres, the simulator as the upstream, a real notification receiver. */
const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-approvals-')), 'policy.yaml');
writeFileSync(
  policyFile,
  [
    'approvals:',
    '  applications.delete: { approvals: 1 }',
    '  apikeys.create: { approvals: 2, approvers: [admin, security] }',
    '  webhooks.delete: { approvals: 1, ttl_s: 120 }',
    'roles:',
    '  admin: { allow: ["*", "apikeys.reveal", "audit.read", "ownership.manage"], scope: any }',
    '  security: { allow: ["apikeys.*", "apikeys.reveal", "applications.get"], scope: any }',
    '  editor: { allow: ["applications.*", "webhooks.*"], scope: team }',
    '  viewer: { allow: ["applications.get"], scope: team }',
    '  auditor: { allow: ["audit.read"], scope: any }',
    '  breaker: { allow: ["applications.delete", "approvals.bypass"], scope: any }',
    '',
  ].join('\n'),
);

const notifications: { event: string; approval?: { id: string; state: string }; text: string }[] = [];
let receiver: Server;
let h: Harness;
let offsetMs = 0;
const alice = tokenFor('admin', 'alice');
const bob = tokenFor('admin', 'bob');
const carol = tokenFor('admin', 'carol');

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      notifications.push(JSON.parse(text));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  h = await startHarness({
    env: { POLICY_FILE: policyFile, APPROVAL_NOTIFY_URL: notifyUrl },
    // The real wiring, with a clock the test can move forward (expiry without sleeping).
    seams: { clock: () => new Date(Date.now() + offsetMs) },
  });
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
  receiver.close();
});
beforeEach(() => h.simulator.clearRequests());

const ask = (path: string, token = alice, reason?: string) => {
  const call = h.api().delete(path).set('Authorization', `Bearer ${token}`);
  return reason ? call.set('X-Approval-Reason', reason) : call;
};
const act = (id: string, action: 'approve' | 'deny' | 'cancel', token: string, body: object = {}) =>
  h.api().post(`/v1/approvals/${id}/${action}`).set('Authorization', `Bearer ${token}`).send(body);
const upstreamDeletes = () => h.simulator.requests.filter((r) => r.method === 'DELETE');

test('when a guarded delete is asked for, then it is stored, answered 202 with its Location, announced, and not forwarded', async () => {
  const app = await ownedApplication(h, 'demo');
  const res = await ask(`/v1/applications/${app}`, alice, 'decommissioned, TICKET-42');
  expect(res.status).toBe(202);
  expect(res.headers.location).toBe(`/v1/approvals/${res.body.approval.id}`);
  expect(res.body.approval).toMatchObject({
    state: 'pending',
    operation: 'applications.delete',
    path: `/v1/applications/${app}`,
    target: { application_id: app, name: null, name_status: 'not_read', team: 'demo' },
    team: 'demo',
    requested_by: { issuer: TEST_ISSUER, subject: 'alice' },
    approvals_needed: 1,
    approvals: [],
    reason: 'decommissioned, TICKET-42',
  });
  expect(Date.parse(res.body.approval.expires_at) - Date.parse(res.body.approval.created_at)).toBe(3600_000);
  expect(upstreamDeletes()).toEqual([]);
  await waitFor(async () => notifications.some((n) => n.approval?.id === res.body.approval.id));
  expect(notifications.find((n) => n.approval?.id === res.body.approval.id)).toMatchObject({
    event: 'approval.requested',
    text: expect.stringContaining('TICKET-42'),
  });

  const again = await ask(`/v1/applications/${app}`, bob);
  expect(again.status).toBe(409);
  expect(again.body.error.details[0]).toMatchObject({ reason: 'approval_pending', approval_id: res.body.approval.id });
});

test('when a request is read, then it shows who asked and voted (issuer, subject, email, name) and the application by its name as the upstream has it now; unreachable or deleted, the name is null and says why', async () => {
  const app = await ownedApplication(h, 'demo', 'Payroll Sync');
  const mallory = signToken({
    sub: 'mallory',
    roles: ['admin'],
    claims: { name: 'Ada Admin', email: 'm@example.com' },
  });
  const { id } = (await ask(`/v1/applications/${app}`, mallory, 'TICKET-7')).body.approval;
  const read = async (token = bob) =>
    (await h.api().get(`/v1/approvals/${id}`).set('Authorization', `Bearer ${token}`)).body.approval;

  h.simulator.clearRequests();
  const shown = await read();
  expect(shown).toMatchObject({
    requested_by: { issuer: TEST_ISSUER, subject: 'mallory', email: 'm@example.com', name: 'Ada Admin' },
    target: { application_id: app, name: 'Payroll Sync', name_status: 'current', team: 'demo' },
    path: `/v1/applications/${app}`,
  });
  // Read through the gateway's own upstream client, with the DeveloperKey: one GET of the application.
  expect(h.simulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/applications/${app}/`]);
  h.simulator.store.updateApplication(app, { name: 'Payroll Sync (renamed)' });
  expect((await read()).target.name).toBe('Payroll Sync (renamed)');
  const listed = await h.api().get('/v1/approvals?state=pending').set('Authorization', `Bearer ${bob}`);
  expect(listed.body.approvals.find((a: { id: string }) => a.id === id).target).toMatchObject({
    name: 'Payroll Sync (renamed)',
    name_status: 'current',
  });

  h.simulator.setFault({ kind: 'reset' });
  try {
    const unreachable = await h.api().get(`/v1/approvals/${id}`).set('Authorization', `Bearer ${bob}`);
    expect(unreachable.status).toBe(200);
    expect(unreachable.body.approval.target).toEqual({
      application_id: app,
      name: null,
      name_status: 'unavailable',
      team: 'demo',
    });
  } finally {
    h.simulator.setFault(null);
  }

  const approved = await act(
    id,
    'approve',
    signToken({ sub: 'bob', roles: ['admin'], claims: { name: 'Bob B', email: 'bob@example.com' } }),
  );
  expect(approved.body.approval).toMatchObject({
    state: 'executed',
    approvals: [{ by: { issuer: TEST_ISSUER, subject: 'bob', email: 'bob@example.com', name: 'Bob B' } }],
    target: { name: null, name_status: 'not_read' },
  });
  expect((await read()).target).toMatchObject({ name: null, name_status: 'not_found' });
});

test("when the requester approves their own request, then 403 self_approval, recorded, and nothing runs; another admin's approval runs it exactly once", async () => {
  const app = await ownedApplication(h, 'demo');
  const { id } = (await ask(`/v1/applications/${app}`)).body.approval;
  const self = await act(id, 'approve', alice);
  expect(self.status).toBe(403);
  expect(self.body.error.details[0].reason).toBe('self_approval');
  const sameEmail = await act(
    id,
    'approve',
    signToken({ sub: 'alice-other-account', roles: ['admin'], claims: { email: 'alice@example.com' } }),
  );
  expect(sameEmail.status).toBe(200); // alice's token carries no email: a different sub is a different person
  expect(upstreamDeletes()).toHaveLength(1);
  expect(sameEmail.body).toMatchObject({
    approval: { state: 'executed', approvals: [{ by: { issuer: TEST_ISSUER, subject: 'alice-other-account' } }] },
    upstream: { status: 204 },
  });
  const twice = await act(id, 'approve', carol);
  expect(twice.status).toBe(409);
  expect(upstreamDeletes()).toHaveLength(1);
  const entries = (await allEntries(h)).filter((e) => e.approvalId === id);
  expect(entries.map((e) => [e.kind, e.operation, e.actorSub])).toEqual([
    ['approval', 'approval.request', 'alice'],
    ['decision', 'approval.approve', 'alice'],
    ['approval', 'approval.approve', 'alice-other-account'],
    ['request', 'applications.delete', 'alice'],
    ['response', 'applications.delete', 'alice'],
    ['decision', 'approval.approve', 'carol'],
  ]);
  expect(entries[3]!.details).toMatchObject({
    approval_id: id,
    approved_by: [{ issuer: TEST_ISSUER, sub: 'alice-other-account' }],
  });
  expect(entries[4]).toMatchObject({ outcome: 'success', upstreamStatus: 204 });
  const byFilter = await h
    .api()
    .get(`/v1/audit/events?approval_id=${id}&order=asc`)
    .set('Authorization', `Bearer ${tokenFor('auditor', 'rita')}`);
  expect(byFilter.body.events.map((e: { operation: string }) => e.operation)).toEqual([
    'approval.request',
    'approval.approve',
    'approval.approve',
    'applications.delete',
    'approval.approve',
  ]);
});

test('when the same person approves twice while more approvals are needed, then they count once', async () => {
  const { id } = (
    await h.api().post('/v1/applications/wSPk9y5D7p5o87k0ACGKxR/apikeys').set('Authorization', `Bearer ${alice}`)
  ).body.approval;
  expect((await act(id, 'approve', bob)).body.approval).toMatchObject({
    state: 'pending',
    approvals: [{ by: { subject: 'bob' } }],
  });
  expect((await act(id, 'approve', bob)).body.approval).toMatchObject({
    state: 'pending',
    approvals: [{ by: { subject: 'bob' } }],
  });
  expect(h.simulator.requests.filter((r) => r.method === 'POST')).toEqual([]);
  // Someone who may not approve it does not see it either.
  expect((await act(id, 'approve', tokenFor('editor', 'eddie'))).status).toBe(404);
  expect((await act(id, 'approve', tokenFor('breaker', 'bree'))).status).toBe(404);
  const second = await act(id, 'approve', tokenFor('security', 'sec'));
  expect(second.body.approval).toMatchObject({
    state: 'executed',
    approvals: [{ by: { subject: 'bob' } }, { by: { subject: 'sec' } }],
  });
  // `apikeys.*` includes apikeys.reveal: the approver whose approval ran it sees the new key once, in this answer.
  const key = second.body.upstream.body.key as string;
  expect(second.body.upstream.status).toBe(201);
  expect(key).toMatch(/^[A-Za-z0-9]{20,}$/);
  const read = await h.api().get(`/v1/approvals/${id}`).set('Authorization', `Bearer ${alice}`);
  expect(read.body.result_body.key).toBe(`****${key.slice(-4)}`); // never stored in full
  const stored = await h.gateway.database.prisma.approvalRequest.findUnique({ where: { id } });
  expect(JSON.stringify(stored)).not.toContain(key);
});

test('when a request is denied, then a reason is required, it ends denied, and nothing runs', async () => {
  const app = await ownedApplication(h, 'demo');
  const { id } = (await ask(`/v1/applications/${app}`)).body.approval;
  const noReason = await act(id, 'deny', bob);
  expect(noReason.status).toBe(400);
  const denied = await act(id, 'deny', bob, { reason: 'still in use' });
  expect(denied.body.approval).toMatchObject({ state: 'denied', ended_by: 'bob', end_reason: 'still in use' });
  expect((await act(id, 'approve', carol)).status).toBe(409);
  expect(upstreamDeletes()).toEqual([]);
  await waitFor(async () => notifications.some((n) => n.approval?.id === id && n.approval?.state === 'denied'));
});

test('when someone else cancels, then 403; the requester cancels, then it ends cancelled and a new request may be made', async () => {
  const app = await ownedApplication(h, 'demo');
  const { id } = (await ask(`/v1/applications/${app}`)).body.approval;
  expect((await act(id, 'cancel', bob)).body.error.details[0].reason).toBe('not_requester');
  expect((await act(id, 'cancel', alice)).body.approval.state).toBe('cancelled');
  expect((await ask(`/v1/applications/${app}`)).status).toBe(202);
});

test('when a request outlives its TTL, then it cannot be approved (410), it is recorded as expired, and its history stays', async () => {
  const app = await ownedApplication(h, 'demo');
  const hook = h.simulator.store.createWebhook(app, 'https://hooks.example.com/x')!;
  const { id, expires_at } = (await ask(`/v1/applications/${app}/webhooks/${hook.id}`)).body.approval;
  expect(Date.parse(expires_at)).toBeLessThan(Date.now() + 121_000);
  offsetMs = 121_000;
  try {
    const late = await act(id, 'approve', bob);
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('approval_expired');
    expect(upstreamDeletes()).toEqual([]);
    const read = await h.api().get(`/v1/approvals/${id}`).set('Authorization', `Bearer ${alice}`);
    expect(read.body.approval.state).toBe('expired');
    expect((await allEntries(h)).filter((e) => e.approvalId === id).map((e) => e.operation)).toEqual([
      'approval.request',
      'approval.expire',
      'approval.approve',
    ]);
  } finally {
    offsetMs = 0;
  }
});

test('when the target was deleted meanwhile, or the upstream is down at execution, then the request ends failed with what happened, and is never retried', async () => {
  const app = await ownedApplication(h, 'demo');
  const { id } = (await ask(`/v1/applications/${app}`)).body.approval;
  h.simulator.store.deleteApplication(app);
  const gone = await act(id, 'approve', bob);
  expect(gone.body).toMatchObject({
    approval: { state: 'failed', result: { status: 404 } },
    upstream: { status: 404 },
  });

  const other = await ownedApplication(h, 'demo');
  const second = (await ask(`/v1/applications/${other}`)).body.approval.id;
  h.simulator.setFault({ kind: 'reset', times: 1 });
  const down = await act(second, 'approve', bob);
  expect(down.body).toMatchObject({
    approval: { state: 'failed', result: { error: 'upstream_unavailable' } },
    upstream: { error: 'upstream_unavailable' },
  });
  expect(upstreamDeletes()).toHaveLength(2);
  expect((await act(second, 'approve', carol)).status).toBe(409);
  expect(upstreamDeletes()).toHaveLength(2);
});

test('when people look at approvals, then requesters see theirs, approvers what they may approve, auditors everything, others nothing', async () => {
  const app = await ownedApplication(h, 'demo');
  const mine = (await ask(`/v1/applications/${app}`, alice)).body.approval.id;
  const look = async (token: string) =>
    (await h.api().get('/v1/approvals?state=pending').set('Authorization', `Bearer ${token}`)).body.approvals.map(
      (a: { id: string }) => a.id,
    );
  expect(await look(alice)).toContain(mine);
  expect(await look(bob)).toContain(mine);
  expect(await look(tokenFor('auditor', 'rita'))).toContain(mine);
  expect(await look(tokenFor('viewer', 'vic'))).not.toContain(mine);
  expect(
    (
      await h
        .api()
        .get(`/v1/approvals/${mine}`)
        .set('Authorization', `Bearer ${tokenFor('viewer', 'vic')}`)
    ).status,
  ).toBe(404);
  expect((await h.api().get('/v1/approvals/not-a-uuid').set('Authorization', `Bearer ${alice}`)).status).toBe(404);
  await act(mine, 'cancel', alice);
});

test('when break-glass is used, then only a holder of approvals.bypass runs it at once, flagged in the trail and announced', async () => {
  const app = await ownedApplication(h, 'demo');
  const admin = await ask(`/v1/applications/${app}`, alice).set('X-Approval-Bypass', 'incident 7');
  expect(admin.status).toBe(403); // `*` never grants approvals.bypass
  const empty = await ask(`/v1/applications/${app}`, tokenFor('breaker', 'bree')).set('X-Approval-Bypass', '  ');
  expect(empty.status).toBe(400);
  const res = await ask(`/v1/applications/${app}`, tokenFor('breaker', 'bree')).set(
    'X-Approval-Bypass',
    'incident 7: credential leak',
  );
  expect(res.status).toBe(204);
  expect(upstreamDeletes()).toHaveLength(1);
  const entries = (await allEntries(h)).filter((e) => e.applicationId === app && e.actorSub === 'bree');
  expect(entries.map((e) => [e.kind, e.operation, e.errorCode])).toEqual([
    ['decision', 'applications.delete', 'validation_failed'],
    ['approval', 'approval.bypass', null],
    ['request', 'applications.delete', null],
    ['response', 'applications.delete', null],
  ]);
  expect(entries[1]).toMatchObject({ reason: 'approval_bypassed', details: { reason: 'incident 7: credential leak' } });
  await waitFor(async () => notifications.some((n) => n.event === 'approval.bypassed'));
  expect(JSON.stringify(notifications)).not.toContain('DeveloperKey');
});
