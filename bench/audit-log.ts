/**
 * The audit trail as a transparency log (issue 15):
 *  - append cost: audited mutations (create a webhook) at concurrency 16, with the log's integration off (the
 *    append path of before: the tree is not touched) and on (integrating and signing every second), alternated;
 *  - a trail of ROWS entries seeded straight into Postgres, back-filled into the tree (timed), then proof latency
 *    over HTTP (inclusion and consistency, random sizes) and the latest checkpoint;
 *  - incremental verify: the time `/v1/audit/verify` takes after 1,000 new entries on that trail.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/audit-log.ts [rows=2000000] [--json]
 */
import { Pool } from 'undici';
import { startHarness, type Harness } from '../test/helpers/harness';
import { createTestDatabase } from '../test/helpers/database';
import { tokenFor } from '../test/helpers/tokens';
import { exitWhenDone, fmt } from './ab';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

export interface Pct {
  n: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface AppendFigures {
  mode: 'log off' | 'log on';
  mutations: number;
  perS: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LogFigures {
  rows: number;
  seedS: number;
  backfillS: number;
  treeNodes: number;
  append: AppendFigures[];
  inclusion: Pct;
  consistency: Pct;
  checkpoint: Pct;
  maxProofHashes: number;
  bound: number;
  verify: { newEntries: number; ms: number[] };
}

function pct(xs: number[]): Pct {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50Ms: s[Math.floor(0.5 * (s.length - 1))]!, p99Ms: s[Math.floor(0.99 * (s.length - 1))]!, maxMs: s.at(-1)! };
}

async function mutationLoad(h: Harness, pool: Pool, seconds: number, concurrency: number, mode: AppendFigures['mode']): Promise<AppendFigures> {
  const headers = { authorization: `Bearer ${tokenFor('admin')}`, 'content-type': 'application/json' };
  const timings: number[] = [];
  const until = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const started = performance.now();
      const res = await pool.request({ method: 'POST', path: `/v1/applications/${APP}/webhooks`, headers, body: JSON.stringify({ url: `https://hooks.example.com/b/${n++}` }) });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`mutation: ${res.statusCode}`);
      timings.push(performance.now() - started);
    }
  }));
  const p = pct(timings);
  void h;
  return { mode, mutations: timings.length, perS: timings.length / seconds, p50Ms: p.p50Ms, p99Ms: p.p99Ms };
}

async function timed(pool: Pool, path: string, auth: Record<string, string>): Promise<[number, string]> {
  const started = performance.now();
  const res = await pool.request({ method: 'GET', path, headers: auth });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text}`);
  return [performance.now() - started, text];
}

export async function auditLog(rows: number): Promise<LogFigures> {
  const db = await createTestDatabase('postgres');
  const h = await startHarness({ database: db, env: { LOG_LEVEL: 'silent', AUDIT_CHECKPOINT_INTERVAL_S: '1' } });
  const log = h.deps.audit.log;
  const pool = new Pool(h.gatewayUrl, { connections: 16 });
  const auth = { authorization: `Bearer ${tokenFor('auditor')}` };

  // Append cost, on a small trail, alternating so drift hits both modes alike.
  const append: AppendFigures[] = [];
  await mutationLoad(h, pool, 3, 16, 'log on'); // warm-up
  for (let round = 0; round < 2; round++) {
    await log.stop();
    append.push(await mutationLoad(h, pool, 10, 16, 'log off'));
    log.start();
    append.push(await mutationLoad(h, pool, 10, 16, 'log on'));
  }
  await log.stop();
  await log.signNow();

  // A large trail: seeded after what is there, the way bench/audit-review.ts seeds it (hashes are placeholders).
  const prisma = h.gateway.database.prisma;
  const base = Number((await prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM audit_entry'))[0]!.n);
  const seeded = performance.now();
  await prisma.$executeRawUnsafe(`
    INSERT INTO audit_entry (seq, at, kind, event_id, request_id, actor_sub, actor_roles, operation, method, path, application_id,
                             decision, reason, outcome, upstream_status, latency_ms, fingerprints, key_id, hash)
    SELECT ${base} + i, now() - interval '30 days' + (((i + 1) / 2) * (interval '30 days' / ${rows / 2})),
           CASE WHEN i % 2 = 1 THEN 'request' ELSE 'response' END,
           md5(((i + 1) / 2)::text)::uuid, 'req-' || ((i + 1) / 2), 'user-' || (((i + 1) / 2) % 100), ARRAY['editor'],
           (ARRAY['applications.create','applications.update','webhooks.create','webhooks.delete'])[1 + ((i + 1) / 2) % 4], 'POST',
           '/v1/applications', 'app' || (((i + 1) / 2) % 5000), 'allowed', 'role_grants_permission',
           CASE WHEN i % 2 = 0 THEN 'success' END, CASE WHEN i % 2 = 0 THEN 201 END, CASE WHEN i % 2 = 0 THEN 12.5 END,
           ARRAY[]::text[], 'bench', decode(md5(i::text), 'hex')
    FROM generate_series(1, ${rows}) AS i`);
  await prisma.$executeRawUnsafe('ANALYZE audit_entry');
  const seedS = (performance.now() - seeded) / 1000;
  const filled = performance.now();
  const { size } = await log.integrate();
  const backfillS = (performance.now() - filled) / 1000;
  await prisma.$executeRawUnsafe('ANALYZE audit_tree_node');
  await log.signNow();
  const treeNodes = Number((await prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM audit_tree_node'))[0]!.n);

  // Proofs over HTTP against the tree of `size` entries (each request is itself recorded, as in production).
  const inclusion: number[] = [];
  const consistency: number[] = [];
  const checkpoint: number[] = [];
  let maxProofHashes = 0;
  const random = (n: number) => 1 + Math.floor(Math.random() * n);
  for (let i = 0; i < 1000; i++) {
    const [ms, text] = await timed(pool, `/v1/audit/proof/inclusion?sequence=${random(size)}&tree_size=${size}`, auth);
    inclusion.push(ms);
    maxProofHashes = Math.max(maxProofHashes, (JSON.parse(text) as { proof: string[] }).proof.length);
  }
  for (let i = 0; i < 1000; i++) {
    const [ms, text] = await timed(pool, `/v1/audit/proof/consistency?from=${random(size)}&to=${size}`, auth);
    consistency.push(ms);
    maxProofHashes = Math.max(maxProofHashes, (JSON.parse(text) as { proof: string[] }).proof.length);
  }
  for (let i = 0; i < 200; i++) checkpoint.push((await timed(pool, '/v1/audit/checkpoint', auth))[0]);

  // Incremental verify: the log verified up to now (set directly: the seeded rows' HMACs are placeholders), then
  // 1,000 new entries (500 audited mutations), then one /v1/audit/verify.
  const verifyMs: number[] = [];
  for (let round = 0; round < 3; round++) {
    const { size: now } = await log.integrate();
    const last = (await h.deps.audit.store.readChain(BigInt(now - 1), 1))[0]!;
    const root = Buffer.from((await log.tree.checkpointAt((await log.signNow())!.treeSize))!.root);
    await log.tree.setVerified(now, root, last.hash);
    const admin = { authorization: `Bearer ${tokenFor('admin')}`, 'content-type': 'application/json' };
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 500 / 8 + (w < 500 % 8 ? 1 : 0); i++) {
        const res = await pool.request({ method: 'POST', path: `/v1/applications/${APP}/webhooks`, headers: admin, body: JSON.stringify({ url: `https://hooks.example.com/v/${w}/${i}` }) });
        await res.body.dump();
      }
    }));
    const [ms, text] = await timed(pool, '/v1/audit/verify', auth);
    const result = JSON.parse(text) as { ok: boolean; checked: number };
    if (!result.ok || result.checked < 1000) throw new Error(`verify: ${text}`);
    verifyMs.push(ms);
  }

  await pool.close();
  await h.close();
  await db.drop();
  return {
    rows, seedS, backfillS, treeNodes, append,
    inclusion: pct(inclusion), consistency: pct(consistency), checkpoint: pct(checkpoint),
    maxProofHashes, bound: Math.ceil(Math.log2(size)) + 1,
    verify: { newEntries: 1000, ms: verifyMs },
  };
}

if (require.main === module) {
  exitWhenDone(async () => {
    const f = await auditLog(Number(process.argv[2] ?? 2_000_000));
    if (process.argv.includes('--json')) return void process.stdout.write(`${JSON.stringify(f)}\n`);
    const p = (x: Pct) => `p50 ${fmt(x.p50Ms)} ms, p99 ${fmt(x.p99Ms)} ms, max ${fmt(x.maxMs)} ms (${x.n} requests)`;
    process.stdout.write(
      [
        ...f.append.map((a) => `append, ${a.mode}: ${a.mutations} mutations, ${a.perS.toFixed(0)}/s, p50 ${fmt(a.p50Ms)} ms, p99 ${fmt(a.p99Ms)} ms`),
        `trail: ${f.rows} entries seeded in ${f.seedS.toFixed(1)} s; back-filled into the tree in ${f.backfillS.toFixed(1)} s (${(f.rows / f.backfillS).toFixed(0)} entries/s, ${f.treeNodes} nodes)`,
        `inclusion proof: ${p(f.inclusion)}`,
        `consistency proof: ${p(f.consistency)}`,
        `latest checkpoint: ${p(f.checkpoint)}`,
        `longest proof: ${f.maxProofHashes} hashes (bound ceil(log2 n)+1 = ${f.bound})`,
        `incremental verify after ${f.verify.newEntries} new entries: ${f.verify.ms.map((m) => `${m.toFixed(0)} ms`).join(', ')}`,
        '',
      ].join('\n'),
    );
  });
}
