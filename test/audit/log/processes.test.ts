import { generateKeyPairSync } from 'node:crypto';
import { createSimulator } from '../../../src/simulator/server';
import { createTestDatabase, SERVER_URL } from '../../helpers/database';
import { spawnGateway, type GatewayProcess } from '../../helpers/process';
import { signToken } from '../../helpers/tokens';
import { APP, processEnv, sleep, waitFor, within } from '../../security/support';
import {
  checkCheckpoint,
  checkConsistency,
  checkInclusion,
  checkRebuilt,
  RootBuilder,
  type CheckedCheckpoint,
} from '../../../src/audit/log/offline';
import { parseVkey } from '../../../src/audit/log/note';

/**
 * The log across processes: two gateways appending to one database, and a gateway killed with -9 in the middle
 * of appends (and of integrating them into the tree). Afterwards every proof is valid, and every checkpoint
 * signed before is consistent with the newest one.
 */
const testWithServer = SERVER_URL ? test : test.skip;
const DEVELOPER_KEY = 'dk-log-processes-0a1b2c3d';
const SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const admin = signToken({ sub: 'log-admin', roles: ['admin'] });
const auditor = signToken({ sub: 'log-auditor', roles: ['auditor'] });

const mutate = (url: string, i: number) =>
  fetch(`${url}/v1/applications/${APP}/webhooks`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: `https://hooks.example.com/log/${i}` }),
  }).then(
    (r) => r.status,
    () => 0,
  );
const read = async (url: string, path: string, method = 'GET') => {
  const res = await fetch(`${url}${path}`, { method, headers: { Authorization: `Bearer ${auditor}` } });
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.text();
};

/** Every kept checkpoint is consistent with the newest; every entry is provably in it; the export rebuilds its root. */
async function assertWholeLog(url: string, kept: string[]): Promise<CheckedCheckpoint> {
  const policy = {
    log: parseVkey((JSON.parse(await read(url, '/v1/audit/public-key')) as { verifier_key: string }).verifier_key),
    witnesses: [],
    minCosignatures: 0,
  };
  const last = checkCheckpoint(await read(url, '/v1/audit/checkpoint', 'POST'), policy);
  for (const note of kept) {
    const old = checkCheckpoint(note, policy);
    const { proof } = JSON.parse(
      await read(url, `/v1/audit/proof/consistency?from=${Math.max(old.size, 1)}&to=${last.size}`),
    ) as { proof: string[] };
    expect(() => checkConsistency(old, last, proof)).not.toThrow();
  }
  const lines = (await read(url, `/v1/audit/log/entries?to=${last.size}`)).trim().split('\n');
  const builder = new RootBuilder();
  lines.forEach((l) => builder.add(l));
  checkRebuilt(last, builder);
  // In batches: one caller may have at most AUDIT_READS_PER_CALLER audit reads in flight.
  const proofs: string[] = [];
  for (let i = 0; i < lines.length; i += 50) {
    proofs.push(
      ...(await Promise.all(
        lines
          .slice(i, i + 50)
          .map((_, j) => read(url, `/v1/audit/proof/inclusion?sequence=${i + j + 1}&tree_size=${last.size}`)),
      )),
    );
  }
  proofs.forEach((p, i) =>
    expect(() => checkInclusion(last, lines[i] as string, (JSON.parse(p) as { proof: string[] }).proof)).not.toThrow(),
  );
  expect(JSON.parse(await read(url, '/v1/audit/verify?full=true'))).toMatchObject({ ok: true });
  return last;
}

describe('the audit log across processes', () => {
  testWithServer(
    'when two gateways append concurrently and both sign checkpoints, then all checkpoints are consistent and all proofs valid',
    async () => {
      const simulator = createSimulator({ developerKey: DEVELOPER_KEY, seed: true });
      const upstream = await simulator.listen(0, '127.0.0.1');
      const db = await createTestDatabase('postgres');
      const env = processEnv(upstream, DEVELOPER_KEY, db.url!, {
        AUDIT_SIGNING_KEY: SIGNING_KEY,
        AUDIT_CHECKPOINT_INTERVAL_S: '1',
        AUDIT_READS_PER_CALLER: '100',
      });
      const gateways: GatewayProcess[] = [spawnGateway(env), spawnGateway(env)];
      try {
        const urls = await Promise.all(gateways.map((g) => within(g.ready, 20_000, 'gateway ready')));
        const kept: string[] = [];
        let writing = true;
        const signer = (async () => {
          for (let i = 0; writing; i++) {
            kept.push(await read(urls[i % 2] as string, '/v1/audit/checkpoint', 'POST'));
            await sleep(50);
          }
        })();
        const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => mutate(urls[i % 2] as string, i)));
        writing = false;
        await signer;
        expect(statuses.filter((s) => s !== 201)).toEqual([]);
        const last = await assertWholeLog(
          urls[1] as string,
          kept.filter((n) => n !== ''),
        );
        expect(last.size).toBeGreaterThanOrEqual(120);
      } finally {
        for (const g of gateways) g.child.kill('SIGTERM');
        await Promise.all(gateways.map((g) => g.exited));
        await simulator.close();
        await db.drop();
      }
    },
    90_000,
  );

  testWithServer(
    'when a gateway is killed with -9 during appends, then a restarted one extends every checkpoint signed before',
    async () => {
      const simulator = createSimulator({ developerKey: DEVELOPER_KEY, seed: true });
      const upstream = await simulator.listen(0, '127.0.0.1');
      const db = await createTestDatabase('postgres');
      const env = processEnv(upstream, DEVELOPER_KEY, db.url!, {
        AUDIT_SIGNING_KEY: SIGNING_KEY,
        AUDIT_CHECKPOINT_INTERVAL_S: '1',
        AUDIT_READS_PER_CALLER: '100',
      });
      const processes: GatewayProcess[] = [];
      try {
        const first = spawnGateway(env);
        processes.push(first);
        const url = await within(first.ready, 20_000, 'first gateway ready');
        const kept: string[] = [];
        let killed = false;
        const load = Promise.all(
          Array.from({ length: 8 }, async (_, w) => {
            for (let i = 0; !killed; i++) await mutate(url, w * 1000 + i);
          }),
        );
        const signer = (async () => {
          while (!killed) {
            const note = await read(url, '/v1/audit/checkpoint', 'POST').catch(() => '');
            if (note) kept.push(note);
            await sleep(30);
          }
        })();
        // Killed under load once a few checkpoints were kept (not after a fixed time: a busy machine signs fewer).
        await waitFor(() => kept.length >= 4, 30_000, 'four checkpoints kept under load');
        first.child.kill('SIGKILL');
        killed = true;
        await first.exited;
        await Promise.all([load, signer]);
        expect(kept.length).toBeGreaterThan(3);

        const second = spawnGateway(env);
        processes.push(second);
        const url2 = await within(second.ready, 20_000, 'second gateway ready');
        for (let i = 0; i < 5; i++) expect(await mutate(url2, 9000 + i)).toBe(201);
        await assertWholeLog(url2, kept);
      } finally {
        for (const p of processes) p.child.kill('SIGTERM');
        await Promise.all(processes.map((p) => p.exited));
        await simulator.close();
        await db.drop();
      }
    },
    90_000,
  );
});
