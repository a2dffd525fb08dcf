/**
 * The audit review API on a large trail: seeds ROWS entries (half requests, half responses, 100 actors, 30 days)
 * straight into a fresh Postgres database, then measures a filtered page (actor + 3-day window, 50 events)
 * through HTTP, and an export of every event with the process's RSS sampled before, during and after.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/audit-review.ts [rows=1000000] [--json]
 *
 * `npm run bench` runs it as a child process (`node --expose-gc`, so "after GC" means after a GC) with 2,000,000
 * entries and `--json`, and reports the figures.
 */
import { Pool } from 'undici';
import { startHarness } from '../test/helpers/harness';
import { createTestDatabase } from '../test/helpers/database';
import { tokenFor } from '../test/helpers/tokens';
import { exitWhenDone, fmt } from './ab';

export interface ReviewFigures {
  rows: number;
  events: number;
  seedS: number;
  page: { requests: number; p50Ms: number; p95Ms: number; maxMs: number };
  exports: { lines: number; seconds: number; eventsPerS: number; peakRssMb: number; afterRssMb: number; afterHeapMb: number }[];
  before: { rssMb: number; heapMb: number };
}

export async function auditReview(rows: number): Promise<ReviewFigures> {
  const db = await createTestDatabase('postgres');
  const h = await startHarness({ database: db, env: { LOG_LEVEL: 'silent' } });
  const prisma = h.gateway.database.prisma;
  const seeded = performance.now();
  // Entries 2k-1 and 2k are one event's request and response, k-th event at a steady pace over 30 days.
  await prisma.$executeRawUnsafe(`
    INSERT INTO audit_entry (seq, at, kind, event_id, request_id, actor_sub, actor_roles, operation, method, path, application_id,
                             decision, reason, outcome, upstream_status, latency_ms, fingerprints, key_id, hash)
    SELECT i, now() - interval '30 days' + (((i + 1) / 2) * (interval '30 days' / ${rows / 2})),
           CASE WHEN i % 2 = 1 THEN 'request' ELSE 'response' END,
           md5(((i + 1) / 2)::text)::uuid, 'req-' || ((i + 1) / 2), 'user-' || (((i + 1) / 2) % 100), ARRAY['editor'],
           (ARRAY['applications.create','applications.update','webhooks.create','webhooks.delete'])[1 + ((i + 1) / 2) % 4], 'POST',
           '/v1/applications', 'app' || (((i + 1) / 2) % 5000), 'allowed', 'role_grants_permission',
           CASE WHEN i % 2 = 0 THEN 'success' END, CASE WHEN i % 2 = 0 THEN 201 END, CASE WHEN i % 2 = 0 THEN 12.5 END,
           ARRAY[]::text[], 'bench', decode(md5(i::text), 'hex')
    FROM generate_series(1, ${rows}) AS i`);
  await prisma.$executeRawUnsafe('ANALYZE audit_entry');
  const seedS = (performance.now() - seeded) / 1000;

  const pool = new Pool(h.gatewayUrl, { connections: 4 });
  const auth = { authorization: `Bearer ${tokenFor('auditor')}` };
  const timings: number[] = [];
  for (let i = 0; i < 200; i++) {
    const until = new Date(Date.now() - ((i % 27) + 1) * 86_400_000);
    const since = new Date(until.getTime() - 3 * 86_400_000);
    const started = performance.now();
    const res = await pool.request({ method: 'GET', path: `/v1/audit/events?actor=user-${i % 100}&since=${since.toISOString()}&until=${until.toISOString()}&limit=50`, headers: auth });
    const body = (await res.body.json()) as { events: unknown[] };
    if (res.statusCode !== 200 || body.events.length !== 50) throw new Error(`page ${i}: ${res.statusCode}, ${body.events?.length} events`);
    timings.push(performance.now() - started);
  }
  const sorted = [...timings].sort((a, b) => a - b);
  const pct = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;

  // Two full exports: if memory grew with the rows exported, the second would end higher than the first.
  const sample = () => (global.gc?.(), { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed });
  const before = sample();
  const exports: { lines: number; seconds: number; peakRss: number; after: ReturnType<typeof sample> }[] = [];
  for (let run = 0; run < 2; run++) {
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const started = performance.now();
    const res = await pool.request({ method: 'GET', path: '/v1/audit/events?format=ndjson&order=asc', headers: auth });
    let lines = 0;
    for await (const chunk of res.body) for (const byte of chunk as Buffer) if (byte === 10) lines++;
    clearInterval(sampler);
    exports.push({ lines, seconds: (performance.now() - started) / 1000, peakRss, after: sample() });
  }
  await pool.close();
  await h.close();
  await db.drop();
  const mb = (b: number) => Math.round(b / 1024 / 1024);
  return {
    rows,
    events: rows / 2,
    seedS,
    page: { requests: timings.length, p50Ms: pct(0.5), p95Ms: pct(0.95), maxMs: sorted.at(-1)! },
    exports: exports.map((e) => ({ lines: e.lines, seconds: e.seconds, eventsPerS: e.lines / e.seconds, peakRssMb: mb(e.peakRss), afterRssMb: mb(e.after.rss), afterHeapMb: mb(e.after.heap) })),
    before: { rssMb: mb(before.rss), heapMb: mb(before.heap) },
  };
}

if (require.main === module) {
  exitWhenDone(async () => {
    const f = await auditReview(Number(process.argv[2] ?? 1_000_000));
    if (process.argv.includes('--json')) return void process.stdout.write(`${JSON.stringify(f)}\n`);
    const gc = global.gc ? 'after GC' : 'without a forced GC (run with node --expose-gc)';
    process.stdout.write(
      [
        `trail: ${f.rows} entries (${f.events} events), seeded in ${f.seedS.toFixed(1)} s`,
        `filtered page (actor + 3-day window, 50 events), ${f.page.requests} requests: p50 ${fmt(f.page.p50Ms)} ms, p95 ${fmt(f.page.p95Ms)} ms, max ${fmt(f.page.maxMs)} ms`,
        ...f.exports.map(
          (e, i) =>
            `export ${i + 1} of every event as NDJSON: ${e.lines} lines in ${e.seconds.toFixed(1)} s (${e.eventsPerS.toFixed(0)} events/s); ` +
            `RSS peak ${e.peakRssMb} MB, after ${e.afterRssMb} MB; heap ${gc} ${e.afterHeapMb} MB`,
        ),
        `before the exports: RSS ${f.before.rssMb} MB, heap ${gc} ${f.before.heapMb} MB (gateway, simulator and this client share one process)`,
        '',
      ].join('\n'),
    );
  });
}
