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
import { fingerprintOf, seedLargeTrail } from '../test/helpers/large-trail';
import { exitWhenDone, fmt } from './lab/ab';

export interface ReviewFigures {
  rows: number;
  events: number;
  seedS: number;
  page: { requests: number; p50Ms: number; p95Ms: number; maxMs: number };
  exports: {
    lines: number;
    seconds: number;
    eventsPerS: number;
    peakRssMb: number;
    afterRssMb: number;
    afterHeapMb: number;
  }[];
  before: { rssMb: number; heapMb: number };
  /** Every documented filter of GET /v1/audit/events, one page of 50 (issue 18). */
  filters?: { filter: string; requests: number; p50Ms: number; p95Ms: number; maxMs: number }[];
  /** Mutations made while twelve expensive searches run (twelve auditors), against the same mutations alone. */
  mutationsDuringSearches?: {
    alone: Percentiles;
    during: Percentiles;
    statuses: Record<string, number>;
    searches: Record<string, number>;
  };
}

export interface Percentiles {
  requests: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

const percentiles = (xs: number[]): Percentiles => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    requests: s.length,
    p50Ms: s[Math.floor(0.5 * (s.length - 1))] ?? 0,
    p95Ms: s[Math.floor(0.95 * (s.length - 1))] ?? 0,
    maxMs: s.at(-1) ?? 0,
  };
};

export async function auditReview(rows: number): Promise<ReviewFigures> {
  const db = await createTestDatabase('postgres');
  const h = await startHarness({ database: db, env: { LOG_LEVEL: 'silent' } });
  const prisma = h.gateway.database.prisma;
  const seeded = performance.now();
  // Entries 2k-1 and 2k are one event's request and response, k-th event at a steady pace over 30 days, after the
  // entries the harness wrote (ownership of the demo applications).
  await seedLargeTrail(prisma, rows, Number((await h.deps.audit.store.latest())?.seq ?? 0n));
  const seedS = (performance.now() - seeded) / 1000;

  const pool = new Pool(h.gatewayUrl, { connections: 4 });
  const auth = { authorization: `Bearer ${tokenFor('auditor')}` };
  const timings: number[] = [];
  for (let i = 0; i < 200; i++) {
    const until = new Date(Date.now() - ((i % 27) + 1) * 86_400_000);
    const since = new Date(until.getTime() - 3 * 86_400_000);
    const started = performance.now();
    const res = await pool.request({
      method: 'GET',
      path: `/v1/audit/events?actor=user-${i % 100}&since=${since.toISOString()}&until=${until.toISOString()}&limit=50`,
      headers: auth,
    });
    const body = (await res.body.json()) as { events: unknown[] };
    if (res.statusCode !== 200 || body.events.length !== 50)
      throw new Error(`page ${i}: ${res.statusCode}, ${body.events?.length} events`);
    timings.push(performance.now() - started);
  }
  const sorted = [...timings].sort((a, b) => a - b);
  const pct = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;

  // Every documented filter, alone: 20 pages of 50 each.
  const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
  const FILTERS = [
    'actor=user-7',
    'operation=webhooks.delete',
    'application_id=app17',
    'application_id=wh18',
    'decision=allowed',
    'decision=denied',
    'outcome=success',
    'outcome=upstream_error',
    'outcome=upstream_timeout',
    'outcome=pending',
    'request_id=req-4242',
    `since=${day(10)}&until=${day(9)}`,
    `key_fingerprint=${fingerprintOf(500 * 77)}`,
    'kind=mutation',
    'kind=access',
    'team=payments',
  ];
  const filters: NonNullable<ReviewFigures['filters']> = [];
  for (const filter of FILTERS) {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const res = await pool.request({ method: 'GET', path: `/v1/audit/events?${filter}&limit=50`, headers: auth });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`${filter}: ${res.statusCode}`);
      times.push(performance.now() - started);
    }
    filters.push({
      filter:
        filter.replace(/=.*$/, '').replace(/&.*/, '') +
        (filter.startsWith('since') ? ', until (one day)' : `=${filter.split('=')[1]!.slice(0, 24)}`),
      ...percentiles(times),
    });
  }

  // Mutations alone, then while twelve auditors run the most expensive searches in a loop.
  const admin = { authorization: `Bearer ${tokenFor('admin', 'bench-admin')}`, 'content-type': 'application/json' };
  const mutate = async (i: number) => {
    const started = performance.now();
    const res = await pool.request({
      method: 'POST',
      path: '/v1/applications/wSPk9y5D7p5o87k0ACGKxR/webhooks',
      headers: admin,
      body: JSON.stringify({ url: `https://hooks.example.com/b/${i}` }),
    });
    await res.body.dump();
    return { status: res.statusCode, ms: performance.now() - started };
  };
  const alone: number[] = [];
  for (let i = 0; i < 50; i++) alone.push((await mutate(i)).ms);
  const searchPool = new Pool(h.gatewayUrl, { connections: 12 });
  const EXPENSIVE = [
    'outcome=pending',
    'outcome=upstream_error',
    'application_id=wh18',
    `key_fingerprint=${fingerprintOf(500 * 77)}`,
  ];
  const searches: Record<string, number> = {};
  let searching = true;
  const searchers = Array.from({ length: 12 }, async (_, i) => {
    const headers = { authorization: `Bearer ${tokenFor('auditor', `bench-searcher-${i}`)}` };
    while (searching) {
      const res = await searchPool.request({
        method: 'GET',
        path: `/v1/audit/events?${EXPENSIVE[i % EXPENSIVE.length]}&limit=1000`,
        headers,
      });
      await res.body.dump();
      searches[res.statusCode] = (searches[res.statusCode] ?? 0) + 1;
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  const during: number[] = [];
  const statuses: Record<string, number> = {};
  for (let i = 0; i < 100; i++) {
    const { status, ms } = await mutate(1000 + i);
    statuses[status] = (statuses[status] ?? 0) + 1;
    during.push(ms);
  }
  searching = false;
  await Promise.all(searchers);
  await searchPool.close();
  const mutationsDuringSearches = { alone: percentiles(alone), during: percentiles(during), statuses, searches };

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
    exports: exports.map((e) => ({
      lines: e.lines,
      seconds: e.seconds,
      eventsPerS: e.lines / e.seconds,
      peakRssMb: mb(e.peakRss),
      afterRssMb: mb(e.after.rss),
      afterHeapMb: mb(e.after.heap),
    })),
    before: { rssMb: mb(before.rss), heapMb: mb(before.heap) },
    filters,
    mutationsDuringSearches,
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
        ...reviewFilterLines(f),
        '',
      ].join('\n'),
    );
  });
}

/** The per-filter and mutations-during-searches figures, as the report and the command line show them. */
export function reviewFilterLines(f: ReviewFigures): string[] {
  const p = (x: Percentiles) =>
    `p50 ${x.p50Ms.toFixed(1)} ms, p95 ${x.p95Ms.toFixed(1)} ms, max ${x.maxMs.toFixed(1)} ms`;
  const m = f.mutationsDuringSearches;
  return [
    ...(f.filters
      ? [
          '',
          '| filter (one page of 50) | p50 | p95 | max |',
          '| --- | --- | --- | --- |',
          ...f.filters.map(
            (x) =>
              `| \`${x.filter}\` | ${x.p50Ms.toFixed(1)} ms | ${x.p95Ms.toFixed(1)} ms | ${x.maxMs.toFixed(1)} ms |`,
          ),
          '',
        ]
      : []),
    ...(m
      ? [
          `- audited mutations alone (${m.alone.requests}): ${p(m.alone)}`,
          `- the same while 12 auditors run expensive searches in a loop (${Object.entries(m.searches)
            .map(([s, n]) => `${n}× ${s}`)
            .join(', ')}): ${m.during.requests} mutations, ${Object.entries(m.statuses)
            .map(([s, n]) => `${n}× ${s}`)
            .join(', ')}; ${p(m.during)}`,
        ]
      : []),
  ];
}
