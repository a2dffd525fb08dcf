/**
 * The audit trail as a transparency log (issue 15):
 *  - append cost: audited mutations (create a webhook) at concurrency 16, with the log's integration off (the
 *    append path of before: the tree is not touched) and on (integrating and signing every second), alternated;
 *  - a trail of ROWS entries seeded straight into Postgres, back-filled into the tree (timed), then proof latency
 *    over HTTP (inclusion and consistency, random sizes) and the latest checkpoint;
 *  - incremental verify: the time `/v1/audit/verify` takes after 1,000 new entries on that trail.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/audit-log.ts [rows=2000000] [--json]
 *     [--reuse] [--proofs-only]
 *
 * --reuse keeps the database (gw_bench_audit_log_<rows>) and data directory (the log's signing key) after the run and
 * uses them again next time: the trail is seeded and back-filled once (~2.5 min at 2,000,000), later runs only take in
 * what the previous run appended. --proofs-only skips the append-cost and verify phases (proof latency only).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { Client } from 'pg';
import { Pool } from 'undici';
import { startHarness, type Harness } from '../test/helpers/harness';
import { createTestDatabase, SERVER_URL, type TestDatabase } from '../test/helpers/database';
import { tokenFor } from '../test/helpers/tokens';
import { checkCheckpoint, checkConsistency, checkInclusion } from '../src/audit/log/offline';
import { parseVkey } from '../src/audit/log/note';
import { exitWhenDone, fmt } from './lab/ab';

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
  /** Seeded and back-filled by an earlier run (--reuse): seedS and backfillS are then 0. */
  reused?: boolean;
  seedS: number;
  backfillS: number;
  treeNodes: number;
  append: AppendFigures[];
  inclusion: Pct;
  /** The same proofs computed in the process (what the route does before answering, without HTTP and the access entry). */
  inclusionInProcess?: Pct;
  /** GC pauses while the inclusion proofs were served over HTTP. */
  inclusionGc?: { pauses: number; totalMs: number; maxMs: number };
  /** The floor under every audit read over HTTP: GET /v1/audit/public-key (authentication, the limiter, the access entry). */
  publicKey?: Pct;
  consistency: Pct;
  checkpoint: Pct;
  maxProofHashes: number;
  bound: number;
  verify: { newEntries: number; ms: number[] };
  /** `npm run audit:verify` on files fetched from this trail: (a) checkpoint, (b) inclusion, (c) consistency. */
  offline?: OfflineFigures;
}

export interface OfflineFigures {
  treeSize: number;
  oldSize: number;
  /** Each check as a reviewer runs it: a process of its own (node and tsx starting included), median of 5, ms. */
  cli: { checkpoint: number; inclusion: number; consistency: number; nothing: number };
  /** The check alone in this process, the files already read: median of 1,000, ms. */
  inProcess: { checkpoint: number; inclusion: number; consistency: number };
}

function pct(xs: number[]): Pct {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50Ms: s[Math.floor(0.5 * (s.length - 1))]!,
    p99Ms: s[Math.floor(0.99 * (s.length - 1))]!,
    maxMs: s.at(-1)!,
  };
}

async function mutationLoad(
  h: Harness,
  pool: Pool,
  seconds: number,
  concurrency: number,
  mode: AppendFigures['mode'],
): Promise<AppendFigures> {
  const headers = { authorization: `Bearer ${tokenFor('admin')}`, 'content-type': 'application/json' };
  const timings: number[] = [];
  const until = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        const res = await pool.request({
          method: 'POST',
          path: `/v1/applications/${APP}/webhooks`,
          headers,
          body: JSON.stringify({ url: `https://hooks.example.com/b/${n++}` }),
        });
        await res.body.dump();
        if (res.statusCode !== 201) throw new Error(`mutation: ${res.statusCode}`);
        timings.push(performance.now() - started);
      }
    }),
  );
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

/**
 * The offline verifier on this trail, as a reviewer uses it: the public key, a checkpoint kept earlier, the current
 * checkpoint, an inclusion proof with its exported entry and a consistency proof, each fetched over HTTP into files;
 * then `scripts/audit-verify.ts` run on them (every run must say ok), and the same checks in-process.
 */
async function offlineChecks(pool: Pool, auth: Record<string, string>, keptNote: string): Promise<OfflineFigures> {
  const [, keyJson] = await timed(pool, '/v1/audit/public-key', auth);
  const policy = {
    log: parseVkey((JSON.parse(keyJson) as { verifier_key: string }).verifier_key),
    witnesses: [],
    minCosignatures: 0,
  };
  const post = await pool.request({ method: 'POST', path: '/v1/audit/checkpoint', headers: auth });
  const nowNote = await post.body.text();
  const current = checkCheckpoint(nowNote, policy);
  const kept = checkCheckpoint(keptNote, policy);
  const sequence = 1 + Math.floor(Math.random() * current.size);
  const inclusion = `/v1/audit/proof/inclusion?sequence=${sequence}&tree_size=${current.size}`;
  const [, inclusionJson] = await timed(pool, inclusion, auth);
  const [, entry] = await timed(pool, `/v1/audit/log/entries?from=${sequence - 1}&to=${sequence}`, auth);
  const consistency = `/v1/audit/proof/consistency?from=${kept.size}&to=${current.size}`;
  const [, consistencyJson] = await timed(pool, consistency, auth);

  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-offline-'));
  const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  const key = ['--key', file('key.json', keyJson), '--checkpoint', file('now.txt', nowNote)];
  const args = {
    checkpoint: ['checkpoint', ...key],
    inclusion: ['inclusion', ...key, '--proof', file('inclusion.json', inclusionJson), '--entry', file('entry', entry)],
    consistency: [
      'consistency',
      ...key,
      '--old',
      file('kept.txt', keptNote),
      '--proof',
      file('c.json', consistencyJson),
    ],
  };
  const run = (argv: string[]) => {
    const started = performance.now();
    const out = spawnSync(process.execPath, ['--import', 'tsx', ...argv], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
    });
    if (out.status !== 0) throw new Error(`${argv.join(' ')}: ${out.stderr}`);
    return performance.now() - started;
  };
  const medianOf = (times: number, measure: () => number) => pct(Array.from({ length: times }, measure)).p50Ms;
  const cli = (argv: string[]) => medianOf(5, () => run(['scripts/audit-verify.ts', ...argv]));
  const alone = (check: () => void) =>
    medianOf(1000, () => {
      const started = performance.now();
      check();
      return performance.now() - started;
    });
  const inclusionProof = (JSON.parse(inclusionJson) as { proof: string[] }).proof;
  const consistencyProof = (JSON.parse(consistencyJson) as { proof: string[] }).proof;
  const figures: OfflineFigures = {
    treeSize: current.size,
    oldSize: kept.size,
    cli: {
      checkpoint: cli(args.checkpoint),
      inclusion: cli(args.inclusion),
      consistency: cli(args.consistency),
      nothing: medianOf(5, () => run(['-e', ''])),
    },
    inProcess: {
      checkpoint: alone(() => checkCheckpoint(nowNote, policy)),
      inclusion: alone(() => checkInclusion(current, entry.trim(), inclusionProof)),
      consistency: alone(() => checkConsistency(kept, current, consistencyProof)),
    },
  };
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

/** A database and data directory kept between runs (--reuse), created empty the first time. */
async function keptDatabase(rows: number): Promise<TestDatabase> {
  if (!SERVER_URL) throw new Error('--reuse needs TEST_DATABASE_URL');
  const name = `gw_bench_audit_log_${rows}`;
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  if (!exists) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const dataDir = join(tmpdir(), `gw-bench-audit-log-${rows}`);
  mkdirSync(dataDir, { recursive: true });
  return { backend: 'postgres', url: url.toString(), dataDir, drop: async () => undefined };
}

function gcPauses(): () => { pauses: number; totalMs: number; maxMs: number } {
  const pauses: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => pauses.push(e.duration)));
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    return { pauses: pauses.length, totalMs: pauses.reduce((a, b) => a + b, 0), maxMs: Math.max(0, ...pauses) };
  };
}

export async function auditLog(
  rows: number,
  options: { reuse?: boolean; proofsOnly?: boolean } = {},
): Promise<LogFigures> {
  const db = options.reuse ? await keptDatabase(rows) : await createTestDatabase('postgres');
  const h = await startHarness({ database: db, env: { LOG_LEVEL: 'silent', AUDIT_CHECKPOINT_INTERVAL_S: '1' } });
  const log = h.deps.audit.log;
  const pool = new Pool(h.gatewayUrl, { connections: 16 });
  // Tokens expire: one made per phase (the back-fill of a large trail outlasts one).
  let auth: Record<string, string>;
  const prisma = h.gateway.database.prisma;
  // A kept trail that already holds the rows is not seeded again.
  const reused =
    !!options.reuse &&
    Number((await prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM audit_entry'))[0]!.n) >= rows;

  // Append cost, on a small trail, alternating so drift hits both modes alike.
  const append: AppendFigures[] = [];
  if (!options.proofsOnly) await mutationLoad(h, pool, 3, 16, 'log on'); // warm-up
  for (let round = 0; round < (options.proofsOnly ? 0 : 2); round++) {
    await log.stop();
    append.push(await mutationLoad(h, pool, 10, 16, 'log off'));
    log.start();
    append.push(await mutationLoad(h, pool, 10, 16, 'log on'));
  }
  await log.stop();
  await log.signNow();

  // A large trail: seeded after what is there, the way bench/audit-review.ts seeds it (hashes are placeholders).
  const base = Number((await prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM audit_entry'))[0]!.n);
  const seeded = performance.now();
  if (!reused)
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
  // The newest entry is then a real one (a gateway refuses to start on a trail whose head no key of its wrote).
  if (!reused) await h.deps.audit.recorder.recordSystem('bench.seeded', { rows });
  if (!reused) await prisma.$executeRawUnsafe('ANALYZE audit_entry');
  const seedS = reused ? 0 : (performance.now() - seeded) / 1000;
  const filled = performance.now();
  const { size } = await log.integrate();
  const backfillS = reused ? 0 : (performance.now() - filled) / 1000;
  if (!reused) await prisma.$executeRawUnsafe('ANALYZE audit_tree_node');
  await log.signNow();
  const treeNodes = Number(
    (await prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM audit_tree_node'))[0]!.n,
  );

  // Proofs over HTTP against the tree of `size` entries (each request is itself recorded, as in production).
  const inclusion: number[] = [];
  const consistency: number[] = [];
  const checkpoint: number[] = [];
  let maxProofHashes = 0;
  const random = (n: number) => 1 + Math.floor(Math.random() * n);
  auth = { authorization: `Bearer ${tokenFor('auditor')}` };
  const [, keptNote] = await timed(pool, '/v1/audit/checkpoint', auth); // what a reviewer keeps today
  // Warm-up (JIT, connections), then the floor every audit read stands on, then the proofs.
  for (let i = 0; i < 100; i++)
    await timed(pool, `/v1/audit/proof/inclusion?sequence=${random(size)}&tree_size=${size}`, auth);
  const publicKey: number[] = [];
  for (let i = 0; i < 1000; i++) publicKey.push((await timed(pool, '/v1/audit/public-key', auth))[0]);
  const gc = gcPauses();
  for (let i = 0; i < 1000; i++) {
    const [ms, text] = await timed(pool, `/v1/audit/proof/inclusion?sequence=${random(size)}&tree_size=${size}`, auth);
    inclusion.push(ms);
    maxProofHashes = Math.max(maxProofHashes, (JSON.parse(text) as { proof: string[] }).proof.length);
  }
  const inclusionGc = gc();
  // In the process: the reads the route makes, timed without HTTP, authentication and the access entry.
  const inclusionInProcess: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const started = performance.now();
    await log.inclusion(random(size), size); // the proof and its checkpoint, as the route reads them
    inclusionInProcess.push(performance.now() - started);
  }
  for (let i = 0; i < 1000; i++) {
    const [ms, text] = await timed(pool, `/v1/audit/proof/consistency?from=${random(size)}&to=${size}`, auth);
    consistency.push(ms);
    maxProofHashes = Math.max(maxProofHashes, (JSON.parse(text) as { proof: string[] }).proof.length);
  }
  for (let i = 0; i < 200; i++) checkpoint.push((await timed(pool, '/v1/audit/checkpoint', auth))[0]);
  // Later, the reviewer checks with the public key alone that the log only grew and an entry is in it.
  const offline = await offlineChecks(pool, auth, keptNote);

  // Incremental verify: the log verified up to now (set directly: the seeded rows' HMACs are placeholders), then
  // 1,000 new entries (500 audited mutations), then one /v1/audit/verify.
  const verifyMs: number[] = [];
  auth = { authorization: `Bearer ${tokenFor('auditor')}` };
  for (let round = 0; round < (options.proofsOnly ? 0 : 3); round++) {
    const { size: now } = await log.integrate();
    const last = (await h.deps.audit.store.readChain(BigInt(now - 1), 1))[0]!;
    const root = Buffer.from((await log.tree.checkpointAt((await log.signNow())!.treeSize))!.root);
    await log.tree.setVerified(now, root, last.hash);
    const admin = { authorization: `Bearer ${tokenFor('admin')}`, 'content-type': 'application/json' };
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 500 / 8 + (w < 500 % 8 ? 1 : 0); i++) {
          const res = await pool.request({
            method: 'POST',
            path: `/v1/applications/${APP}/webhooks`,
            headers: admin,
            body: JSON.stringify({ url: `https://hooks.example.com/v/${w}/${i}` }),
          });
          await res.body.dump();
        }
      }),
    );
    const [ms, text] = await timed(pool, '/v1/audit/verify', auth);
    const result = JSON.parse(text) as { ok: boolean; checked: number };
    if (!result.ok || result.checked < 1000) throw new Error(`verify: ${text}`);
    verifyMs.push(ms);
  }

  await pool.close();
  await h.close();
  await db.drop();
  return {
    rows,
    reused,
    seedS,
    backfillS,
    treeNodes,
    append,
    inclusion: pct(inclusion),
    inclusionInProcess: pct(inclusionInProcess),
    inclusionGc,
    publicKey: pct(publicKey),
    consistency: pct(consistency),
    checkpoint: pct(checkpoint),
    maxProofHashes,
    bound: Math.ceil(Math.log2(size)) + 1,
    verify: { newEntries: 1000, ms: verifyMs },
    offline,
  };
}

if (require.main === module) {
  exitWhenDone(async () => {
    const args = process.argv.slice(2);
    const f = await auditLog(Number(args.find((a) => !a.startsWith('--')) ?? 2_000_000), {
      reuse: args.includes('--reuse'),
      proofsOnly: args.includes('--proofs-only'),
    });
    if (process.argv.includes('--json')) return void process.stdout.write(`${JSON.stringify(f)}\n`);
    const p = (x: Pct) => `p50 ${fmt(x.p50Ms)} ms, p99 ${fmt(x.p99Ms)} ms, max ${fmt(x.maxMs)} ms (${x.n} requests)`;
    process.stdout.write(
      [
        ...f.append.map(
          (a) =>
            `append, ${a.mode}: ${a.mutations} mutations, ${a.perS.toFixed(0)}/s, p50 ${fmt(a.p50Ms)} ms, p99 ${fmt(a.p99Ms)} ms`,
        ),
        f.reused
          ? `trail: ${f.rows} entries seeded and back-filled by an earlier run (--reuse), ${f.treeNodes} nodes`
          : `trail: ${f.rows} entries seeded in ${f.seedS.toFixed(1)} s; back-filled into the tree in ${f.backfillS.toFixed(1)} s (${(f.rows / f.backfillS).toFixed(0)} entries/s, ${f.treeNodes} nodes)`,
        `audit read floor (GET /v1/audit/public-key): ${p(f.publicKey!)}`,
        `inclusion proof: ${p(f.inclusion)}; GC during it: ${f.inclusionGc!.pauses} pauses, ${fmt(f.inclusionGc!.totalMs)} ms in all, max ${fmt(f.inclusionGc!.maxMs)} ms`,
        `inclusion proof in the process: ${p(f.inclusionInProcess!)}`,
        `consistency proof: ${p(f.consistency)}`,
        `latest checkpoint: ${p(f.checkpoint)}`,
        `longest proof: ${f.maxProofHashes} hashes (bound ceil(log2 n)+1 = ${f.bound})`,
        `incremental verify after ${f.verify.newEntries} new entries: ${f.verify.ms.map((m) => `${m.toFixed(0)} ms`).join(', ')}`,
        `offline verifier, tree of ${f.offline!.treeSize} (kept checkpoint ${f.offline!.oldSize}), npm run audit:verify as a process: checkpoint ${fmt(f.offline!.cli.checkpoint)} ms, inclusion ${fmt(f.offline!.cli.inclusion)} ms, consistency ${fmt(f.offline!.cli.consistency)} ms (node and tsx starting with nothing to run: ${fmt(f.offline!.cli.nothing)} ms)`,
        `offline checks in the process: checkpoint ${fmt(f.offline!.inProcess.checkpoint)} ms, inclusion ${fmt(f.offline!.inProcess.inclusion)} ms, consistency ${fmt(f.offline!.inProcess.consistency)} ms`,
        '',
      ].join('\n'),
    );
  });
}
