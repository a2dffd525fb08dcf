/**
 * A team's application list at scale (issue 12): APPS applications in the simulator, owned by TEAMS teams
 * (APPS / TEAMS each), ownership seeded through the real path (POST /v1/ownership/import, 1,000 pairs a call,
 * every change audited). Then `GET /v1/applications?page_size=N&page=K` with team-scoped editor tokens:
 *
 * - warm: the directory of upstream applications is within OWNERSHIP_LIST_MAX_AGE_MS (set to 300 s here, so no
 *   walk falls inside the series): the list is cut from memory after one ownership read in Postgres;
 * - cold: a second server on the same dependencies but OWNERSHIP_LIST_MAX_AGE_MS=0, so every call walks the
 *   upstream list (the worst case: what every call costs right after a change, or once the age has passed);
 * - paced: a third server with the default OWNERSHIP_LIST_MAX_AGE_MS (5 s), 20 calls a second for 15 s sent on
 *   schedule whatever the answers take, so the calls that arrive while a due walk runs wait for it, as in service.
 *
 * Upstream requests per list call are counted at the simulator. The snapshot's memory is the heap a second
 * directory holds after one walk (after a forced GC when run with --expose-gc).
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --expose-gc --import tsx bench/ownership-list.ts [apps:teams ...] [--json]
 *
 * Default scales: 5000:50 and 50000:500. `npm run bench` runs it as a child process with `--json`.
 */
import { Pool } from 'undici';
import { buildApp } from '../src/app';
import { createApplicationDirectory } from '../src/ownership/directory';
import { startWebServer } from '../src/server';
import { DEVELOPER_KEY, startHarness, type Harness } from '../test/helpers/harness';
import { createTestDatabase } from '../test/helpers/database';
import { tokenFor } from '../test/helpers/tokens';
import { exitWhenDone, fmt } from './lab/ab';

export interface ListSeries {
  calls: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  upstreamRequestsPerCall: number;
}

export interface ListScale {
  applications: number;
  teams: number;
  perTeam: number;
  /** Ownership import: calls of 1,000 pairs, seconds in all. */
  importCalls: number;
  importS: number;
  /** One walk of the upstream list, on its own; and the same pages fetched straight from the simulator. */
  walk: { requests: number; ms: number; simulatorMs: number };
  snapshot: { heapMb: number; jsonMb: number };
  warm: ListSeries;
  cold: ListSeries;
  /** The default OWNERSHIP_LIST_MAX_AGE_MS, calls at a steady rate: the walks that fall due are in the figures. */
  paced: ListSeries & { maxAgeMs: number; rate: number };
}

export interface OwnershipListFigures {
  pageSizes: number[];
  scales: ListScale[];
}

const PAGE_SIZES = [10, 25, 100];
const IMPORT_CHUNK = 1_000;
const WARM_MAX_AGE_MS = '300000';
const DEFAULT_MAX_AGE_MS = 5_000;
/** Calls per second in the paced series, for 15 s: three walks fall due. */
const PACED_RATE = 20;
const PACED_CALLS = 300;

export async function ownershipList(scales: { applications: number; teams: number }[]): Promise<OwnershipListFigures> {
  const measured: ListScale[] = [];
  for (const scale of scales) measured.push(await measureScale(scale.applications, scale.teams));
  return { pageSizes: PAGE_SIZES, scales: measured };
}

async function measureScale(applications: number, teams: number): Promise<ListScale> {
  const db = await createTestDatabase('postgres');
  const h = await startHarness({
    database: db,
    env: { LOG_LEVEL: 'silent', OWNERSHIP_LIST_MAX_AGE_MS: WARM_MAX_AGE_MS },
  });
  // The same gateway with a directory that never keeps a walk: every list call walks the upstream.
  const coldDeps = {
    ...h.deps,
    ownership: {
      ...h.deps.ownership,
      directory: createApplicationDirectory({ upstream: h.deps.upstream, maxAgeMs: 0 }),
    },
  };
  const cold = await startWebServer(buildApp(coldDeps), h.config);
  const pacedDeps = {
    ...h.deps,
    ownership: {
      ...h.deps.ownership,
      directory: createApplicationDirectory({ upstream: h.deps.upstream, maxAgeMs: DEFAULT_MAX_AGE_MS }),
    },
  };
  const paced = await startWebServer(buildApp(pacedDeps), h.config);
  try {
    const team = (i: number) => `team-${String(i % teams).padStart(3, '0')}`;
    const ids: string[] = [];
    for (let i = 0; i < applications; i++) ids.push(h.simulator.store.createApplication({ name: `Bench ${i}` }).id);
    const seeded = performance.now();
    const importCalls = await importOwnership(
      h,
      ids.map((id, i) => ({ application_id: id, team: team(i) })),
    );
    const importS = (performance.now() - seeded) / 1000;

    const walk = await measureWalk(h);
    const perTeam = applications / teams;
    const tokens = Array.from({ length: teams }, (_, i) => tokenFor('editor', `bench-${team(i)}`, [team(i)]));
    const warmCalls = 300;
    const coldCalls = applications > 10_000 ? 40 : 100;
    return {
      applications,
      teams,
      perTeam,
      importCalls,
      importS,
      walk: { requests: walk.requests, ms: walk.ms, simulatorMs: await walkSimulatorDirectly(h, walk.requests) },
      snapshot: walk.memory,
      warm: await series(h, h.gatewayUrl, tokens, perTeam, warmCalls),
      cold: await series(h, cold.url, tokens, perTeam, coldCalls),
      paced: {
        ...(await series(h, paced.url, tokens, perTeam, PACED_CALLS, PACED_RATE)),
        maxAgeMs: DEFAULT_MAX_AGE_MS,
        rate: PACED_RATE,
      },
    };
  } finally {
    await paced.stop(1000);
    await cold.stop(1000);
    await h.close();
    await db.drop();
  }
}

async function importOwnership(h: Harness, pairs: { application_id: string; team: string }[]): Promise<number> {
  const auth = {
    authorization: `Bearer ${tokenFor('admin', 'bench-ownership-admin', [])}`,
    'content-type': 'application/json',
  };
  let calls = 0;
  for (let from = 0; from < pairs.length; from += IMPORT_CHUNK) {
    const res = await fetch(`${h.gatewayUrl}/v1/ownership/import`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ pairs: pairs.slice(from, from + IMPORT_CHUNK), allow_new_teams: true }),
    });
    const body = (await res.json()) as { assigned?: number };
    if (res.status !== 200 || body.assigned !== Math.min(IMPORT_CHUNK, pairs.length - from))
      throw new Error(`import at ${from}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    calls++;
  }
  return calls;
}

/** One walk by a directory of its own, and the heap its snapshot holds. */
async function measureWalk(
  h: Harness,
): Promise<{ requests: number; ms: number; memory: { heapMb: number; jsonMb: number } }> {
  const directory = createApplicationDirectory({ upstream: h.deps.upstream, maxAgeMs: 3_600_000 });
  const heap = () => (global.gc?.(), process.memoryUsage().heapUsed);
  const before = heap();
  const started = performance.now();
  const snapshot = await directory.snapshot();
  const ms = performance.now() - started;
  const held = heap() - before;
  const mb = (b: number) => b / 2 ** 20;
  return {
    requests: snapshot.requests,
    ms,
    memory: { heapMb: mb(held), jsonMb: mb(Buffer.byteLength(JSON.stringify(snapshot.applications))) },
  };
}

/** The walk's pages straight from the simulator, as the directory fetches them: what the upstream's side costs. */
async function walkSimulatorDirectly(h: Harness, pages: number): Promise<number> {
  const pool = new Pool(new URL(h.config.upstream.baseUrl).origin, { connections: 4 });
  const headers = { authorization: `DeveloperKey ${DEVELOPER_KEY}` };
  const base = new URL(h.config.upstream.baseUrl).pathname.replace(/\/$/, '');
  const fetchPage = async (page: number) =>
    (
      await pool.request({ method: 'GET', path: `${base}/applications/?page_size=1000&page=${page}`, headers })
    ).body.dump();
  const started = performance.now();
  await fetchPage(1);
  for (let next = 2; next <= pages; next += 4)
    await Promise.all(Array.from({ length: Math.min(4, pages - next + 1) }, (_, i) => fetchPage(next + i)));
  const ms = performance.now() - started;
  await pool.close();
  return ms;
}

/**
 * List calls, each by a random team for a random page of a random size; every answer is checked. Sequential, or
 * at `rate` calls a second whatever the answers take (a call that waits on a walk does not delay the next).
 */
async function series(
  h: Harness,
  url: string,
  tokens: string[],
  perTeam: number,
  calls: number,
  rate?: number,
): Promise<ListSeries> {
  const pool = new Pool(url, { connections: rate ? 16 : 1 });
  const call = async (i: number) => {
    const pageSize = PAGE_SIZES[i % PAGE_SIZES.length]!;
    const page = 1 + ((Math.imul(i, 2654435761) >>> 0) % Math.ceil(perTeam / pageSize));
    const token = tokens[(Math.imul(i + 1, 40503) >>> 0) % tokens.length]!;
    const started = performance.now();
    const res = await pool.request({
      method: 'GET',
      path: `/v1/applications?page_size=${pageSize}&page=${page}`,
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.body.json()) as { total: number; count: number };
    const took = performance.now() - started;
    const expected = Math.min(pageSize, perTeam - (page - 1) * pageSize);
    if (res.statusCode !== 200 || body.total !== perTeam || body.count !== expected)
      throw new Error(
        `list ${i}: ${res.statusCode} total ${body.total} count ${body.count}, expected ${perTeam}/${expected}`,
      );
    return took;
  };
  for (let i = 0; i < 10; i++) await call(1_000_000 + i); // warm-up: JIT, the pool, and (warm) the first walk
  const upstreamBefore = h.simulator.requests.length;
  const timings: number[] = [];
  if (rate) {
    const started = performance.now();
    const pending: Promise<number>[] = [];
    for (let i = 0; i < calls; i++) {
      await sleep(started + (i * 1000) / rate - performance.now());
      pending.push(call(i));
    }
    timings.push(...(await Promise.all(pending)));
  } else for (let i = 0; i < calls; i++) timings.push(await call(i));
  const upstream = h.simulator.requests.length - upstreamBefore;
  await pool.close();
  const sorted = [...timings].sort((a, b) => a - b);
  const pct = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
  return { calls, p50Ms: pct(0.5), p95Ms: pct(0.95), maxMs: sorted.at(-1)!, upstreamRequestsPerCall: upstream / calls };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function parseScales(args: string[]): { applications: number; teams: number }[] {
  const given = args.filter((a) => /^\d+:\d+$/.test(a)).map((a) => a.split(':').map(Number) as [number, number]);
  const scales =
    given.length > 0
      ? given
      : [
          [5_000, 50],
          [50_000, 500],
        ];
  return scales.map(([applications, teams]) => ({ applications: applications!, teams: teams! }));
}

if (require.main === module) {
  exitWhenDone(async () => {
    const f = await ownershipList(parseScales(process.argv.slice(2)));
    if (process.argv.includes('--json')) return void process.stdout.write(`${JSON.stringify(f)}\n`);
    const line = (s: ListSeries) =>
      `p50 ${fmt(s.p50Ms)} ms, p95 ${fmt(s.p95Ms)} ms, max ${fmt(s.maxMs)} ms; ${s.upstreamRequestsPerCall.toFixed(2)} upstream requests per call (${s.calls} calls)`;
    const gc = global.gc ? '' : ' (without a forced GC: run with node --expose-gc)';
    const lines = f.scales.flatMap((s) => [
      `${s.applications} applications, ${s.teams} teams (${s.perTeam} each): ownership imported in ${s.importCalls} calls, ${s.importS.toFixed(1)} s`,
      `  one walk: ${s.walk.requests} upstream requests, ${fmt(s.walk.ms)} ms (the same pages straight from the simulator: ${fmt(s.walk.simulatorMs)} ms); snapshot ${s.snapshot.heapMb.toFixed(1)} MB of heap${gc}, ${s.snapshot.jsonMb.toFixed(1)} MB as JSON`,
      `  warm directory: ${line(s.warm)}`,
      `  cold (a walk per call): ${line(s.cold)}`,
      `  default max age (${s.paced.maxAgeMs} ms), ${s.paced.rate} calls/s: ${line(s.paced)}`,
    ]);
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
