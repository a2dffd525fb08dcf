import { createSimulator } from '../../src/simulator/server';
import { createTestDatabase, SERVER_URL } from '../helpers/database';
import { spawnGateway, type GatewayProcess } from '../helpers/process';
import { signToken } from '../helpers/tokens';
import {
  APP,
  apiKeyValues,
  assertNothingLeaked,
  auditRows,
  processEnv,
  recordingFetch,
  sleep,
  waitFor,
  within,
  type Seen,
} from '../security/support';

/**
 * kill -9 of a gateway process after the request entry committed and before the upstream answered. The trail
 * must not be left claiming nothing about that attempt: a gateway started later on the same database completes
 * the entry as outcome_unknown (the upstream may or may not have acted), and the chain still verifies.
 * test/audit/recovery.test.ts covers the recovery pass on entries written directly; this is the real crash.
 */

const DEVELOPER_KEY = 'dk-crash-0a1b2c3d4e5f6a7b8c9d';
// Recovery only touches entries older than UPSTREAM_TIMEOUT_MS + 2 × AUDIT_WRITE_TIMEOUT_MS + 5 s.
const RESTART_TIMING = { UPSTREAM_TIMEOUT_MS: '100', AUDIT_WRITE_TIMEOUT_MS: '100' };
const RECOVERY_AGE_MS = 100 + 2 * 100 + 5_000;
const testWithServer = SERVER_URL ? test : test.skip;

testWithServer(
  'when a gateway process is killed with a mutation in flight, then a restarted gateway records outcome_unknown and the chain verifies',
  async () => {
    const simulator = createSimulator({ developerKey: DEVELOPER_KEY, seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const seen: Seen[] = [];
    const call = recordingFetch(seen);
    const processes: GatewayProcess[] = [];
    try {
      const first = spawnGateway(processEnv(upstream, DEVELOPER_KEY, db.url!, { UPSTREAM_TIMEOUT_MS: '30000' }));
      processes.push(first);
      const url = await within(first.ready, 20_000, 'first gateway ready');
      simulator.setFault({ kind: 'delay', ms: 60_000, times: 1 });
      const admin = signToken({ sub: 'crash-admin', roles: ['admin'] });
      const inFlight = fetch(`${url}/v1/applications/${APP}/webhooks`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${admin}`,
          'Content-Type': 'application/json',
          'X-Request-Id': 'crash-in-flight-1',
        },
        body: JSON.stringify({ url: 'https://hooks.example.com/crash' }),
      }).catch((err: Error) => err);

      await waitFor(() => simulator.requests.length === 1, 10_000, 'the upstream received the mutation');
      first.child.kill('SIGKILL');
      await first.exited;
      expect(((await inFlight) as Error).message).toMatch(/fetch failed/); // the client saw the connection die, no answer
      const before = await auditRows(db.url!);
      expect(before.filter((r) => r.client_request_id === 'crash-in-flight-1').map((r) => r.kind)).toEqual(['request']);

      // Restart once the entry is old enough that no live instance could still be waiting on it.
      await sleep(RECOVERY_AGE_MS + 300);
      const second = spawnGateway(processEnv(upstream, DEVELOPER_KEY, db.url!, RESTART_TIMING));
      processes.push(second);
      const url2 = await within(second.ready, 20_000, 'second gateway ready');

      const rows = (await auditRows(db.url!)).filter((r) => r.client_request_id === 'crash-in-flight-1');
      expect(rows.map((r) => `${r.kind}:${r.outcome}`)).toEqual(['request:null', 'response:outcome_unknown']);
      expect(rows[1]?.event_id).toBe(rows[0]?.event_id);
      expect(rows[1]?.details).toMatchObject({ recovered: true });
      expect(second.stdout()).toMatch(/marked outcome_unknown/);

      const auditor = signToken({ sub: 'crash-auditor', roles: ['auditor'] });
      const verify = await call(`${url2}/v1/audit/verify`, { headers: { Authorization: `Bearer ${auditor}` } });
      expect(JSON.parse(verify.text)).toMatchObject({ ok: true });
    } finally {
      for (const p of processes) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
      await simulator.close();
      await db.drop();
    }
    assertNothingLeaked({
      developerKey: DEVELOPER_KEY,
      responses: seen,
      logs: processes.flatMap((p) => [p.stdout(), p.stderr()]),
      apiKeys: apiKeyValues(simulator),
    });
  },
  40_000,
);
