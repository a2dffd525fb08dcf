import { connect } from 'node:net';
import { createSimulator } from '../../src/simulator/server';
import { createTestDatabase, SERVER_URL } from '../helpers/database';
import { spawnGateway } from '../helpers/process';
import { signToken } from '../helpers/tokens';
import {
  APP,
  apiKeyValues,
  assertNothingLeaked,
  auditRows,
  processEnv,
  recordingFetch,
  waitFor,
  within,
  type Seen,
} from '../security/support';

/**
 * SIGTERM while mutations are in flight: each finishes with its answer and a complete pair of audit entries,
 * new connections are refused, and the process exits 0. test/process/shutdown.test.ts shows this for a read.
 */

const DEVELOPER_KEY = 'dk-drain-9a8b7c6d5e4f3a2b1c0d';
const IN_FLIGHT = 20;
const testWithServer = SERVER_URL ? test : test.skip;

testWithServer(
  `when SIGTERM arrives with ${IN_FLIGHT} mutations in flight, then all finish and are fully audited, new connections are refused, and the exit code is 0`,
  async () => {
    const simulator = createSimulator({ developerKey: DEVELOPER_KEY, seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const seen: Seen[] = [];
    const call = recordingFetch(seen);
    const gateway = spawnGateway(
      processEnv(upstream, DEVELOPER_KEY, db.url!, { SHUTDOWN_TIMEOUT_MS: '10000', DRAIN_PERIOD_MS: '0' }),
    );
    try {
      const url = await within(gateway.ready, 20_000, 'gateway ready');
      const { port } = new URL(url);
      simulator.setFault({ kind: 'delay', ms: 1_000, match: { method: 'POST' } });
      const admin = signToken({ sub: 'drain-admin', roles: ['admin'] });
      const mutations = Array.from({ length: IN_FLIGHT }, (_, i) =>
        call(`${url}/v1/applications/${APP}/webhooks`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${admin}`,
            'Content-Type': 'application/json',
            'X-Request-Id': `drain-${String(i).padStart(4, '0')}`,
          },
          body: JSON.stringify({ url: `https://hooks.example.com/drain/${i}` }),
        }),
      );
      await waitFor(() => simulator.requests.length === IN_FLIGHT, 10_000, 'every mutation reached the upstream');

      gateway.child.kill('SIGTERM');
      await waitFor(() => gateway.stdout().includes('draining: finishing in-flight requests'), 5_000, 'draining');
      // No drain period here (test/process/shutdown.test.ts covers it): the listener closes right after the drain
      // starts, and a new connection is refused while the old ones finish.
      await waitFor(() => connectionRefused(Number(port)), 1_000, 'new connections refused');

      const answers = await Promise.all(mutations);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
      expect(await gateway.exited).toBe(0);
      expect(simulator.requests).toHaveLength(IN_FLIGHT);

      const rows = (await auditRows(db.url!)).filter((r) => r.client_request_id?.startsWith('drain-'));
      const byRequest = new Map<string, string[]>();
      for (const r of rows)
        byRequest.set(r.request_id, [...(byRequest.get(r.request_id) ?? []), `${r.kind}:${r.outcome}`]);
      expect(byRequest.size).toBe(IN_FLIGHT);
      for (const kinds of byRequest.values()) expect(kinds).toEqual(['request:null', 'response:success']);
    } finally {
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      await simulator.close();
      await db.drop();
    }
    assertNothingLeaked({
      developerKey: DEVELOPER_KEY,
      responses: seen,
      logs: [gateway.stdout(), gateway.stderr()],
      apiKeys: apiKeyValues(simulator),
    });
  },
  40_000,
);

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
