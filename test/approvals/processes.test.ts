import { Client } from 'pg';
import { createSimulator } from '../../src/simulator/server';
import { createTestDatabase, SERVER_URL } from '../helpers/database';
import { spawnGateway, type GatewayProcess } from '../helpers/process';
import { signToken } from '../helpers/tokens';
import { APP, auditRows, processEnv, sleep, waitFor, within } from '../security/support';

/** Exactly once across gateway processes and crashes: the claim is a conditional update in Postgres. */
const DEVELOPER_KEY = 'dk-approvals-processes-0123456789';
const testWithServer = SERVER_URL ? test : test.skip;

async function approvalState(databaseUrl: string, id: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ state: string }>('SELECT state FROM approval_request WHERE id = $1', [id])).rows[0]!
      .state;
  } finally {
    await client.end();
  }
}

testWithServer(
  'when 50 people approve one request at once through two gateway processes, then the upstream sees exactly one DELETE and the chain verifies',
  async () => {
    const simulator = createSimulator({ developerKey: DEVELOPER_KEY, seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const gateways: GatewayProcess[] = [];
    try {
      for (let i = 0; i < 2; i++) gateways.push(spawnGateway(processEnv(upstream, DEVELOPER_KEY, db.url!)));
      const urls = await Promise.all(gateways.map((g) => within(g.ready, 20_000, 'gateway ready')));
      const requester = signToken({ sub: 'requester', roles: ['admin'] });
      const asked = await fetch(`${urls[0]}/v1/applications/${APP}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${requester}` },
      });
      expect(asked.status).toBe(202);
      const { approval } = (await asked.json()) as { approval: { id: string } };

      const answers = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const res = await fetch(`${urls[i % 2]}/v1/approvals/${approval.id}/approve`, {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${signToken({ sub: `approver-${i}`, roles: ['admin'] })}`,
              'Content-Type': 'application/json',
            },
            body: '{}',
          });
          return {
            status: res.status,
            body: (await res.json()) as { upstream?: unknown; approval?: { state: string } },
          };
        }),
      );
      expect(simulator.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
      expect(answers.filter((a) => a.body.upstream !== undefined)).toHaveLength(1);
      expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 409)).toEqual([]);
      expect(await approvalState(db.url!, approval.id)).toBe('executed');
      const rows = await auditRows(db.url!);
      expect(rows.filter((r) => r.kind === 'request').length).toBe(1);
      const auditor = signToken({ sub: 'auditor', roles: ['auditor'] });
      const verify = (await (
        await fetch(`${urls[1]}/v1/audit/verify`, { headers: { Authorization: `Bearer ${auditor}` } })
      ).json()) as { ok: boolean };
      expect(verify.ok).toBe(true);
    } finally {
      for (const g of gateways) g.child.kill('SIGTERM');
      await Promise.all(gateways.map((g) => g.exited));
      await simulator.close();
      await db.drop();
    }
  },
  60_000,
);

testWithServer(
  'when the gateway is killed while executing an approved request, then after a restart it is outcome_unknown, never executed again, and the chain verifies',
  async () => {
    const simulator = createSimulator({ developerKey: DEVELOPER_KEY, seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const processes: GatewayProcess[] = [];
    // Executions and audit entries older than the bound are judged abandoned: UPSTREAM_TIMEOUT_MS + 4 × AUDIT_WRITE_TIMEOUT_MS + 1 s.
    const timing = { UPSTREAM_TIMEOUT_MS: '100', AUDIT_WRITE_TIMEOUT_MS: '100' };
    try {
      const first = spawnGateway(processEnv(upstream, DEVELOPER_KEY, db.url!, { UPSTREAM_TIMEOUT_MS: '30000' }));
      processes.push(first);
      const url = await within(first.ready, 20_000, 'first gateway ready');
      const asked = await fetch(`${url}/v1/applications/${APP}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${signToken({ sub: 'requester', roles: ['admin'] })}` },
      });
      const { approval } = (await asked.json()) as { approval: { id: string } };
      simulator.setFault({ kind: 'delay', ms: 60_000, times: 1 });
      const approving = fetch(`${url}/v1/approvals/${approval.id}/approve`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${signToken({ sub: 'approver', roles: ['admin'] })}`,
          'Content-Type': 'application/json',
        },
        body: '{}',
      }).catch((e: Error) => e);
      await waitFor(
        () => simulator.requests.some((r) => r.method === 'DELETE'),
        10_000,
        'the upstream received the DELETE',
      );
      first.child.kill('SIGKILL');
      await first.exited;
      expect(String(await approving)).toMatch(/fetch failed/); // the approver saw the connection die, no answer
      expect(await approvalState(db.url!, approval.id)).toBe('executing');

      // Restart once no execution could still be running (both the approval sweep and the audit recovery look then).
      await sleep(100 + 2 * 100 + 5_000 + 1_000);
      const second = spawnGateway(processEnv(upstream, DEVELOPER_KEY, db.url!, timing));
      processes.push(second);
      const url2 = await within(second.ready, 20_000, 'second gateway ready');
      await waitFor(
        async () => (await approvalState(db.url!, approval.id)) === 'outcome_unknown',
        20_000,
        'the sweep marked it outcome_unknown',
      );
      const again = await fetch(`${url2}/v1/approvals/${approval.id}/approve`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${signToken({ sub: 'another', roles: ['admin'] })}`,
          'Content-Type': 'application/json',
        },
        body: '{}',
      });
      expect(again.status).toBe(409);
      expect(simulator.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
      const executionOf = (rows: Awaited<ReturnType<typeof auditRows>>) =>
        rows.find((r) => r.kind === 'request' && JSON.stringify(r.details ?? {}).includes(approval.id))!;
      await waitFor(
        async () => {
          const rows = await auditRows(db.url!);
          return rows.some((r) => r.kind === 'response' && r.event_id === executionOf(rows).event_id);
        },
        20_000,
        'recovery completed the execution entry',
      );
      const all = await auditRows(db.url!);
      const execution = executionOf(all);
      expect(all.filter((r) => r.event_id === execution.event_id).map((r) => `${r.kind}:${r.outcome}`)).toEqual([
        'request:null',
        'response:outcome_unknown',
      ]);
      const verify = (await (
        await fetch(`${url2}/v1/audit/verify`, {
          headers: { Authorization: `Bearer ${signToken({ sub: 'auditor', roles: ['auditor'] })}` },
        })
      ).json()) as { ok: boolean };
      expect(verify.ok).toBe(true);
    } finally {
      for (const p of processes) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
      await simulator.close();
      await db.drop();
    }
  },
  60_000,
);
