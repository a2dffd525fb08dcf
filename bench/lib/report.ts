import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reviewFilterLines, type ReviewFigures } from '../audit-review';
import { describeHostile, type HostileFigures } from '../audit-hostile';
import type { LogFigures } from '../audit-log';
import type { ListScale, ListSeries, OwnershipListFigures } from '../ownership-list';
import type { HotSpot } from '../profile';
import type { AuditCheck } from './audit-check';
import { latencyChart, type ChartSeries } from './chart';
import type { JwtCost } from './jwt-cost';
import type { LoadResult } from './load';
import type { Machine } from './machine';
import { ROOT } from './services';

export type Measured = LoadResult & { cpuMsPerRequest: number };

export interface MemoryFigures {
  idleMb: number;
  soakSamplesMb: number[];
  afterMb: number;
  soak: Measured;
}

export interface BenchResults {
  date: string;
  runtimeS: number;
  quick: boolean;
  /** `--short` (development): short runs, no document written. */
  short?: boolean;
  machine: Machine;
  setup: {
    build: string;
    connections: number;
    saturationS: number;
    pacedS: number;
    rate: number;
    soakS: number;
    gatewayLog: { lines: number; errorLines: number; bytes: number };
  };
  /** `floor`: bench/express-floor.ts (issue 16); absent from runs before it. */
  readsSaturated: { direct: Measured; bare: Measured; floor?: Measured; gateway: Measured };
  readsPaced: { direct: Measured; bare: Measured; floor?: Measured; gateway: Measured };
  /** Issue 26: `GET /v1/applications/:id` through the floor, as the admin and as a team-scoped viewer of its team. */
  teamReadsSaturated?: { floor: Measured; admin: Measured; gateway: Measured };
  teamReadsPaced?: { floor: Measured; gateway: Measured };
  readsRedis: Measured;
  /** `team`: the same mutations by a team-scoped editor of the application's team (issue 26). */
  mutationsSaturated: { direct: Measured; gateway: Measured; team?: Measured };
  mutationsPaced: { direct: Measured; gateway: Measured };
  audits: Record<string, AuditCheck>;
  verification: { status: number; ok: boolean; entries: number; seconds: number };
  memory: MemoryFigures;
  jwt: JwtCost[];
  review?: ReviewFigures;
  /** The audit trail as a transparency log (issue 15): bench/audit-log.ts. */
  log?: LogFigures;
  ownershipList?: OwnershipListFigures;
  /** bench/audit-hostile.ts (issue 18). */
  hostile?: HostileFigures;
  profile?: { file: string; totalMs: number; idleShare: number; spots: HotSpot[] };
  /** Sections a `--quick` run did not measure, kept from the run (date) that did, so the report loses nothing. */
  carried?: Partial<Record<CarriedSection, string>>;
}

export const CARRIED_SECTIONS = ['review', 'log', 'ownershipList', 'hostile'] as const;
export type CarriedSection = (typeof CARRIED_SECTIONS)[number];

/** A `--quick` run keeps the long sections of the previous report, each with the date of the run that measured it. */
export function carryLongSections(r: BenchResults, previous: BenchResults | undefined): BenchResults {
  if (!previous) return r;
  const carried: Partial<Record<CarriedSection, string>> = { ...r.carried };
  const next: BenchResults = { ...r };
  for (const section of CARRIED_SECTIONS) {
    if (r[section] !== undefined || previous[section] === undefined) continue;
    (next as unknown as Record<string, unknown>)[section] = previous[section];
    carried[section] = previous.carried?.[section] ?? previous.date;
  }
  return Object.keys(carried).length > 0 ? { ...next, carried } : next;
}

export interface Target {
  what: string;
  measured: string;
  /** undefined: not measured in this run (a run from before the Express floor). */
  met: boolean | undefined;
}

/** The figures the targets are judged on, all from the same run. */
export function derive(r: BenchResults) {
  const soak = r.memory.soakSamplesMb;
  const third = Math.max(1, Math.floor(soak.length / 3));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    readVsBare: r.readsSaturated.gateway.rps / r.readsSaturated.bare.rps,
    readVsDirect: r.readsSaturated.gateway.rps / r.readsSaturated.direct.rps,
    bareVsDirect: r.readsSaturated.bare.rps / r.readsSaturated.direct.rps,
    readVsFloor: r.readsSaturated.floor ? r.readsSaturated.gateway.rps / r.readsSaturated.floor.rps : NaN,
    floorVsBare: r.readsSaturated.floor ? r.readsSaturated.floor.rps / r.readsSaturated.bare.rps : NaN,
    floorVsDirect: r.readsSaturated.floor ? r.readsSaturated.floor.rps / r.readsSaturated.direct.rps : NaN,
    cpuVsFloor: r.readsSaturated.floor
      ? r.readsSaturated.gateway.cpuMsPerRequest / r.readsSaturated.floor.cpuMsPerRequest
      : NaN,
    cpuVsBare: r.readsSaturated.gateway.cpuMsPerRequest / r.readsSaturated.bare.cpuMsPerRequest,
    addedP50VsFloor: r.readsPaced.floor ? r.readsPaced.gateway.latency.p50 - r.readsPaced.floor.latency.p50 : NaN,
    addedP99VsFloor: r.readsPaced.floor ? r.readsPaced.gateway.latency.p99 - r.readsPaced.floor.latency.p99 : NaN,
    addedP50VsBare: r.readsPaced.gateway.latency.p50 - r.readsPaced.bare.latency.p50,
    addedP99VsBare: r.readsPaced.gateway.latency.p99 - r.readsPaced.bare.latency.p99,
    floorAddedP50: r.readsPaced.floor ? r.readsPaced.floor.latency.p50 - r.readsPaced.direct.latency.p50 : NaN,
    floorAddedP99: r.readsPaced.floor ? r.readsPaced.floor.latency.p99 - r.readsPaced.direct.latency.p99 : NaN,
    redisVsBare: r.readsRedis.rps / r.readsSaturated.bare.rps,
    redisVsMemory: r.readsRedis.rps / r.readsSaturated.gateway.rps,
    addedP50: r.readsPaced.gateway.latency.p50 - r.readsPaced.direct.latency.p50,
    addedP99: r.readsPaced.gateway.latency.p99 - r.readsPaced.direct.latency.p99,
    bareAddedP50: r.readsPaced.bare.latency.p50 - r.readsPaced.direct.latency.p50,
    bareAddedP99: r.readsPaced.bare.latency.p99 - r.readsPaced.direct.latency.p99,
    mutationsVsReads: r.mutationsSaturated.gateway.rps / r.readsSaturated.gateway.rps,
    teamReadVsFloor: r.teamReadsSaturated ? r.teamReadsSaturated.gateway.rps / r.teamReadsSaturated.floor.rps : NaN,
    adminReadOneVsFloor: r.teamReadsSaturated ? r.teamReadsSaturated.admin.rps / r.teamReadsSaturated.floor.rps : NaN,
    teamAddedP99VsFloor: r.teamReadsPaced
      ? r.teamReadsPaced.gateway.latency.p99 - r.teamReadsPaced.floor.latency.p99
      : NaN,
    teamMutationsVsReads:
      r.mutationsSaturated.team && r.teamReadsSaturated
        ? r.mutationsSaturated.team.rps / r.teamReadsSaturated.gateway.rps
        : NaN,
    mutationCpuMs: r.mutationsSaturated.gateway.cpuMsPerRequest,
    mutationAddedP50: r.mutationsPaced.gateway.latency.p50 - r.mutationsPaced.direct.latency.p50,
    mutationAddedP99: r.mutationsPaced.gateway.latency.p99 - r.mutationsPaced.direct.latency.p99,
    soakMaxMb: Math.max(...soak),
    soakFirstThirdMb: mean(soak.slice(0, third)),
    soakLastThirdMb: mean(soak.slice(-third)),
    readsPerCore: 1000 / r.readsSaturated.gateway.cpuMsPerRequest,
    mutationsPerCore: 1000 / r.mutationsSaturated.gateway.cpuMsPerRequest,
    auditExact: Object.values(r.audits).every((a) => a.ok),
  };
}

/** The targets of issue 16, each judged on figures from this one run. */
export function targets(r: BenchResults): Target[] {
  const d = derive(r);
  const growth = d.soakLastThirdMb / d.soakFirstThirdMb - 1;
  const flat = growth <= 0.1;
  const floor = (met: boolean) => (Number.isNaN(d.readVsFloor) ? undefined : met);
  return [
    {
      what: 'gateway reads / Express floor (saturation) ≥ 0.8×',
      measured: Number.isNaN(d.readVsFloor) ? 'not measured' : `${down2(d.readVsFloor)}×`,
      met: floor(d.readVsFloor >= 0.8),
    },
    {
      what: `added latency at ${r.setup.rate} rps vs the Express floor, p50 ≤ 0.5 ms`,
      measured: Number.isNaN(d.addedP50VsFloor) ? 'not measured' : `${ms(d.addedP50VsFloor)} ms`,
      met: floor(d.addedP50VsFloor <= 0.5),
    },
    {
      what: `added latency at ${r.setup.rate} rps vs the Express floor, p99 ≤ 2 ms`,
      measured: Number.isNaN(d.addedP99VsFloor) ? 'not measured' : `${ms(d.addedP99VsFloor)} ms`,
      met: floor(d.addedP99VsFloor <= 2),
    },
    {
      what: 'a team-scoped viewer reading its application / Express floor on that path (saturation) ≥ 0.8×',
      measured: Number.isNaN(d.teamReadVsFloor)
        ? 'not measured'
        : `${down2(d.teamReadVsFloor)}× (the admin on that path ${down2(d.adminReadOneVsFloor)}×)`,
      met: Number.isNaN(d.teamReadVsFloor) ? undefined : d.teamReadVsFloor >= 0.8,
    },
    {
      what: `a team-scoped viewer's read, added p99 at ${r.setup.rate} rps vs the Express floor ≤ 2 ms`,
      measured: Number.isNaN(d.teamAddedP99VsFloor) ? 'not measured' : `${ms(d.teamAddedP99VsFloor)} ms`,
      met: Number.isNaN(d.teamAddedP99VsFloor) ? undefined : d.teamAddedP99VsFloor <= 2,
    },
    {
      what: 'audited mutations / gateway reads (saturation) ≥ 0.6×',
      measured: `${down2(d.mutationsVsReads)}×`,
      met: d.mutationsVsReads >= 0.6,
    },
    {
      what: "a team-scoped editor's audited mutations / its viewer's reads (saturation) ≥ 0.6×",
      measured: Number.isNaN(d.teamMutationsVsReads) ? 'not measured' : `${down2(d.teamMutationsVsReads)}×`,
      met: Number.isNaN(d.teamMutationsVsReads) ? undefined : d.teamMutationsVsReads >= 0.6,
    },
    {
      what: 'audited mutation CPU ≤ 2 ms',
      measured: `${d.mutationCpuMs.toFixed(2)} ms${r.mutationsSaturated.team ? ` (team editor ${r.mutationsSaturated.team.cpuMsPerRequest.toFixed(2)} ms)` : ''}`,
      met: d.mutationCpuMs <= 2,
    },
    {
      what: `audited mutations, added p99 at ${r.setup.rate} rps vs direct ≤ 8 ms`,
      measured: `${ms(d.mutationAddedP99)} ms`,
      met: d.mutationAddedP99 <= 8,
    },
    {
      what: 'gateway RSS under load (max over the soak) ≤ 150 MB',
      measured: `${d.soakMaxMb.toFixed(0)} MB`,
      met: d.soakMaxMb <= 150,
    },
    {
      what: 'gateway RSS flat over the soak (last third ≤ first third + 10%)',
      measured: `${d.soakFirstThirdMb.toFixed(0)} → ${d.soakLastThirdMb.toFixed(0)} MB (${pct(growth)})`,
      met: flat,
    },
    {
      what: 'audit trail: one request + one response entry per mutation, chain verifies',
      measured: `${d.auditExact ? 'exact' : 'mismatch'}; verify ${r.verification.ok ? 'ok' : 'broken'}`,
      met: d.auditExact && r.verification.ok,
    },
    ...teamListTarget(r.ownershipList),
    ...proofTargets(r.log),
  ];
}

const verdict = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? '**met**' : '**missed**');

/** The targets as a Markdown table (the report's, and what `npm run bench` prints at the end). */
export function targetsTable(r: BenchResults): string {
  return [
    '| target | measured | |',
    '| --- | --- | --- |',
    ...targets(r).map((x) => `| ${x.what} | ${x.measured} | ${verdict(x.met)} |`),
  ].join('\n');
}

/** Every read ratio against the Express floor and against the bare proxy, from this run. */
export function ratioLines(r: BenchResults): string {
  const d = derive(r);
  const x = (v: number) => (Number.isNaN(v) ? 'n/a' : `${down2(v)}×`);
  const m = (v: number) => (Number.isNaN(v) ? 'n/a' : `${ms(v)} ms`);
  return [
    `Reads at saturation: gateway / Express floor **${x(d.readVsFloor)}**, gateway / bare proxy **${x(d.readVsBare)}**, Express floor / bare proxy ${x(d.floorVsBare)}; gateway / direct ${x(d.readVsDirect)}, Express floor / direct ${x(d.floorVsDirect)}, bare / direct ${x(d.bareVsDirect)}.`,
    `CPU per read: gateway ${r.readsSaturated.gateway.cpuMsPerRequest.toFixed(3)} ms = ${Number.isNaN(d.cpuVsFloor) ? 'n/a' : `${d.cpuVsFloor.toFixed(1)}×`} the Express floor's${r.readsSaturated.floor ? ` (${r.readsSaturated.floor.cpuMsPerRequest.toFixed(3)} ms)` : ''}, ${d.cpuVsBare.toFixed(1)}× the bare proxy's (${r.readsSaturated.bare.cpuMsPerRequest.toFixed(3)} ms).`,
    `Added latency at ${r.setup.rate} rps, p50 / p99: gateway vs Express floor ${m(d.addedP50VsFloor)} / ${m(d.addedP99VsFloor)}; gateway vs bare proxy ${m(d.addedP50VsBare)} / ${m(d.addedP99VsBare)}; gateway vs direct ${m(d.addedP50)} / ${m(d.addedP99)}; Express floor vs direct ${m(d.floorAddedP50)} / ${m(d.floorAddedP99)}; bare proxy vs direct ${m(d.bareAddedP50)} / ${m(d.bareAddedP99)}.`,
    `Mutations: gateway mutations / gateway reads ${x(d.mutationsVsReads)}; added at ${r.setup.rate} rps vs direct p50 ${m(d.mutationAddedP50)}, p99 ${m(d.mutationAddedP99)}.`,
  ].join('\n');
}

/** Issue 12: judged on the worst of the three series (a walk on every call), not on the cached one. */
function teamListTarget(o?: OwnershipListFigures): Target[] {
  const s = o?.scales.find((x) => x.applications === 5_000);
  if (!s) return [];
  const worst = Math.max(s.warm.p95Ms, s.cold.p95Ms, s.paced.p95Ms);
  return [
    {
      what: `a team's application list, ${n0(s.applications)} applications / ${s.teams} teams, p95 ≤ 100 ms`,
      measured: `${s.warm.p95Ms.toFixed(1)} ms warm, ${s.paced.p95Ms.toFixed(1)} ms at the default max age, ${s.cold.p95Ms.toFixed(1)} ms walking on every call`,
      met: worst <= 100,
    },
  ];
}

/** Issue 15: proofs over HTTP (each answer records its access entry first), and their length. */
function proofTargets(v?: LogFigures): Target[] {
  if (!v) return [];
  return [
    {
      what: `an inclusion proof over HTTP at ${n0(v.rows)} entries, p99 ≤ 10 ms`,
      measured: `${v.inclusion.p99Ms.toFixed(2)} ms (consistency ${v.consistency.p99Ms.toFixed(2)} ms)`,
      met: v.inclusion.p99Ms <= 10,
    },
    {
      what: 'a proof holds at most ceil(log2 n) + 1 hashes',
      measured: `${v.maxProofHashes} (bound ${v.bound})`,
      met: v.maxProofHashes <= v.bound,
    },
  ];
}

const ms = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(2);
/** A ratio to two places, rounded down: 0.4999× is shown as 0.49×, never as a 0.50× that missed a 0.5 target. */
const down2 = (x: number) => (Math.floor(x * 100) / 100).toFixed(2);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
const n0 = (x: number) => Math.round(x).toLocaleString('en-US');

const COLORS = { direct: '#1b9e77', bare: '#7570b3', floor: '#66a61e', gateway: '#d95f02', redis: '#e7298a' };

const CARRIED_NAMES: Record<CarriedSection, string> = {
  review: 'the audit review',
  log: 'the audit log on 2,000,000 entries',
  ownershipList: "a team's application list",
  hostile: 'the audit trail under hostile input',
};

export function writeReport(r: BenchResults): void {
  mkdirSync(join(ROOT, 'docs/images'), { recursive: true });
  writeFileSync(join(ROOT, 'docs/benchmarks.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(ROOT, 'docs/images/latency.svg'), chart(r));
  writeFileSync(join(ROOT, 'docs/benchmarks.md'), markdown(r));
}

function chart(r: BenchResults): string {
  const s = (label: string, color: string, m: Measured): ChartSeries => ({ label, color, curve: m.curve });
  return latencyChart(
    `Gateway latency distributions, ${r.date.slice(0, 10)} (${r.machine.cores} cores, ${r.machine.node})`,
    [
      {
        title: `Reads (GET /v1/applications) at a fixed ${r.setup.rate} rps`,
        series: [
          s('direct', COLORS.direct, r.readsPaced.direct),
          s('bare proxy', COLORS.bare, r.readsPaced.bare),
          ...(r.readsPaced.floor ? [s('Express floor', COLORS.floor, r.readsPaced.floor)] : []),
          s('gateway', COLORS.gateway, r.readsPaced.gateway),
        ],
      },
      {
        title: `Audited mutations (create + delete webhook) at a fixed ${r.setup.rate} rps`,
        series: [
          s('direct', COLORS.direct, r.mutationsPaced.direct),
          s('gateway', COLORS.gateway, r.mutationsPaced.gateway),
        ],
      },
      {
        title: `Reads at saturation (${r.setup.connections} connections)`,
        series: [
          s('direct', COLORS.direct, r.readsSaturated.direct),
          s('bare proxy', COLORS.bare, r.readsSaturated.bare),
          ...(r.readsSaturated.floor ? [s('Express floor', COLORS.floor, r.readsSaturated.floor)] : []),
          s('gateway', COLORS.gateway, r.readsSaturated.gateway),
          s('gateway, Redis limits', COLORS.redis, r.readsRedis),
        ],
      },
    ],
  );
}

function row(label: string, m: Measured): string {
  const l = m.latency;
  return `| ${label} | ${n0(m.rps)} | ${l.p50.toFixed(2)} | ${l.p90.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.max.toFixed(1)} | ${m.cpuMsPerRequest.toFixed(3)} | ${n0(m.ok)} | ${m.failed} |`;
}

const TABLE_HEAD =
  '| target | rps (2xx/s) | p50 ms | p90 ms | p99 ms | max ms | CPU ms/req ¹ | 2xx | failed |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';

function markdown(r: BenchResults): string {
  const d = derive(r);
  const m = r.machine;
  const lines = [
    '# Benchmarks',
    '',
    `What the gateway costs, measured against the floor, on one machine in one run (\`npm run bench\`, ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${(r.runtimeS / 60).toFixed(1)} min${r.quick ? ', `--quick`' : ''}).`,
    'Compare the **ratios**, not the absolute numbers: every target ran on the same machine at the same time of day, and this machine is shared.',
    '',
    ...(r.carried
      ? [
          `Not measured in this run and kept from the run that measured them: ${Object.entries(r.carried)
            .map(([s, d]) => `${CARRIED_NAMES[s as CarriedSection]} (${d.slice(0, 10)})`)
            .join(', ')}.`,
          '',
        ]
      : []),
    '## Targets',
    '',
    "Issue 16: the gateway against the **Express floor** (`bench/express-floor.ts`: Express 5, one route doing the bare proxy's work), so the cost of the features can be told apart from the framework's.",
    '',
    targetsTable(r),
    '',
    ratioLines(r),
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu}, ${m.cores} cores (shared; 1-minute load average at the start: ${m.loadAverageAtStart}); memory ${m.memoryGb} GB; Linux ${m.kernel}`,
    `- Node ${m.node}; Postgres ${m.postgres}; Redis ${m.redis}`,
    `- packages: ${Object.entries(m.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
    '## How it runs',
    '',
    `- Five processes on loopback: the **simulator** (the upstream; it keeps no request log here), the **bare proxy** (\`bench/bare-proxy.ts\`: node:http in, an undici keep-alive Pool of 32 out, Authorization swapped for the DeveloperKey, nothing else), the **Express floor** (\`bench/express-floor.ts\`: Express 5, one route: the body read whole, the same swap, the same Pool of 32, the answer read whole and sent with \`res.send\` and Express's defaults), the **gateway** (${r.setup.build}), and this runner, which drives them with autocannon.`,
    '- The gateway runs with everything on: JWT (HS256, issuer and audience checked), policy, validation, per-person and failed-auth rate limits (in memory; Redis in one scenario), Prometheus metrics, helmet, CORS, and the audit trail in a fresh Postgres database the run creates and drops. Its per-person limits are set high (1,000,000 per minute) so that one load-generating person is counted but never refused; the failed-auth limit is at its default (30 a minute), which valid tokens never spend.',
    `- Its stdout — one JSON line per request at \`LOG_LEVEL=info\` — goes to a file (${n0(r.setup.gatewayLog.lines)} lines, ${(r.setup.gatewayLog.bytes / 2 ** 20).toFixed(0)} MB, ${r.setup.gatewayLog.errorLines} at error level), not through this process.`,
    `- Saturation: ${r.setup.connections} connections, ${r.setup.saturationS} s per target after a 2 s warm-up. Fixed rate: ${r.setup.rate} rps for ${r.setup.pacedS} s, spread evenly over ${r.setup.connections} connections (autocannon's \`overallRate\` sends each connection's quota back to back at the top of every second, which measures a burst; \`bench/lib/load.ts\` paces it).`,
    "- Latencies are each response's own time in the load generator (autocannon's histogram rounds to whole ms). ¹ CPU ms/req: user + system CPU of the serving process (from /proc) over the run, divided by requests: what one request costs, however busy the rest of the machine is.",
    '',
    `## Reads at saturation (\`GET /v1/applications\`)`,
    '',
    TABLE_HEAD,
    row('direct to the simulator', r.readsSaturated.direct),
    row('bare proxy', r.readsSaturated.bare),
    ...(r.readsSaturated.floor ? [row('Express floor', r.readsSaturated.floor)] : []),
    row('gateway', r.readsSaturated.gateway),
    row('gateway, Redis-backed limits', r.readsRedis),
    '',
    `Gateway / Express floor: **${Number.isNaN(d.readVsFloor) ? 'not measured' : `${down2(d.readVsFloor)}×`}**; gateway / bare proxy: **${down2(d.readVsBare)}×**; gateway / direct: ${d.readVsDirect.toFixed(2)}×; bare / direct: ${d.bareVsDirect.toFixed(2)}×. With Redis-backed limits: ${d.redisVsBare.toFixed(2)}× the bare proxy, ${d.redisVsMemory.toFixed(2)}× the gateway with in-memory counters.`,
    '',
    `## Added latency at a fixed ${r.setup.rate} rps`,
    '',
    `![Latency percentile curves per target](images/latency.svg)`,
    '',
    TABLE_HEAD,
    row('direct to the simulator', r.readsPaced.direct),
    row('bare proxy', r.readsPaced.bare),
    ...(r.readsPaced.floor ? [row('Express floor', r.readsPaced.floor)] : []),
    row('gateway', r.readsPaced.gateway),
    '',
    `${r.readsPaced.floor ? `Gateway minus Express floor: p50 **${ms(d.addedP50VsFloor)} ms**, p99 **${ms(d.addedP99VsFloor)} ms**. ` : ''}Gateway minus direct: p50 ${ms(d.addedP50)} ms, p99 ${ms(d.addedP99)} ms (the bare proxy adds ${ms(d.bareAddedP50)} / ${ms(d.bareAddedP99)} ms${r.readsPaced.floor ? `, the Express floor ${ms(d.floorAddedP50)} / ${ms(d.floorAddedP99)} ms` : ''}).`,
    '',
    ...(r.teamReadsSaturated
      ? [
          "## A team-scoped viewer reading its team's application (`GET /v1/applications/:id`)",
          '',
          "The built-in viewer and editor roles are team-scoped: each read is decided on the application's owner, held in memory and kept current by Postgres `LISTEN/NOTIFY` (issue 26; docs/performance.md). The application is given to the viewer's team through the gateway before the runs.",
          '',
          TABLE_HEAD,
          row('saturation, Express floor', r.teamReadsSaturated.floor),
          row('saturation, gateway, admin (any scope)', r.teamReadsSaturated.admin),
          row('saturation, gateway, team viewer', r.teamReadsSaturated.gateway),
          ...(r.teamReadsPaced
            ? [
                row(`${r.setup.rate} rps, Express floor`, r.teamReadsPaced.floor),
                row(`${r.setup.rate} rps, gateway, team viewer`, r.teamReadsPaced.gateway),
              ]
            : []),
          '',
          `Team viewer / Express floor: **${down2(d.teamReadVsFloor)}×** (the admin on the same path ${down2(d.adminReadOneVsFloor)}×); added p99 at ${r.setup.rate} rps: **${ms(d.teamAddedP99VsFloor)} ms**.`,
          '',
        ]
      : []),
    '## Audited mutations (create + delete a webhook, alternating, real Postgres)',
    '',
    TABLE_HEAD,
    row('saturation, direct', r.mutationsSaturated.direct),
    row('saturation, gateway', r.mutationsSaturated.gateway),
    ...(r.mutationsSaturated.team ? [row('saturation, gateway, team editor', r.mutationsSaturated.team)] : []),
    row(`${r.setup.rate} rps, direct`, r.mutationsPaced.direct),
    row(`${r.setup.rate} rps, gateway`, r.mutationsPaced.gateway),
    '',
    `Gateway mutations / gateway reads: **${down2(d.mutationsVsReads)}×**${Number.isNaN(d.teamMutationsVsReads) ? '' : `; the team editor's / the team viewer's reads: **${down2(d.teamMutationsVsReads)}×**`}. Added at ${r.setup.rate} rps: p50 ${ms(d.mutationAddedP50)} ms, p99 **${ms(d.mutationAddedP99)} ms** (two audit entries committed per mutation, one before forwarding and one after).`,
    '',
    '| run | mutations sent | never reached the gateway ² | request entries | response entries | decision entries (refused: code × n) | incomplete | not sent by the run | |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...Object.entries(r.audits).map(
      ([k, a]) =>
        `| ${k} | ${n0(a.sent)} | ${a.notReceived ?? '–'} | ${n0(a.requestEntries)} | ${n0(a.responseEntries)} | ${a.decisionEntries}${
          a.refused && Object.keys(a.refused).length > 0
            ? ` (${Object.entries(a.refused)
                .map(([c, n]) => `${c} × ${n}`)
                .join(', ')})`
            : ''
        } | ${a.incomplete} | ${a.unexpected} | ${a.ok ? 'exact' : '**mismatch**'} |`,
    ),
    '',
    "² Built by the load generator but not received by the gateway (no line in its request log): autocannon makes a connection's next request before the end of the run stops it. Every mutation the gateway received must have exactly one request and one response entry, or, if it refused it before forwarding (fail-closed), exactly one decision entry.",
    '',
    `After all runs, \`GET /v1/audit/verify\`: ${r.verification.ok ? '**ok**' : '**broken**'}, ${n0(r.verification.entries)} entries walked in ${r.verification.seconds.toFixed(1)} s.`,
    '',
    '## Memory (gateway RSS)',
    '',
    `| idle, after start | soak: min / median / max | soak: first third → last third | 10 s after |\n| ---: | ---: | ---: | ---: |`,
    `| ${r.memory.idleMb.toFixed(0)} MB | ${stats(r.memory.soakSamplesMb)} | ${d.soakFirstThirdMb.toFixed(0)} → ${d.soakLastThirdMb.toFixed(0)} MB | ${r.memory.afterMb.toFixed(0)} MB |`,
    '',
    `Soak: ${r.setup.soakS} s at saturation, each connection cycling 6 reads, a create and a delete: ${n0(r.memory.soak.rps)} rps, p99 ${r.memory.soak.latency.p99.toFixed(2)} ms, ${r.memory.soak.failed} failed, ${r.memory.soak.cpuMsPerRequest.toFixed(3)} CPU ms/req. Samples (MB, one a second): ${r.memory.soakSamplesMb.map((x) => x.toFixed(0)).join(' ')}.`,
    '',
    '## JWT verification (in-process, one at a time)',
    '',
    '| algorithm | gateway verifier (KeyObject, all claim checks) | jsonwebtoken, key as a string | | the same token again, from the verified-token cache |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...r.jwt.map(
      (j) =>
        `| ${j.algorithm} | ${n0(j.gatewayPerS)}/s (${(1e6 / j.gatewayPerS).toFixed(1)} µs) | ${n0(j.stringKeyPerS)}/s (${(1e6 / j.stringKeyPerS).toFixed(1)} µs) | ${(j.gatewayPerS / j.stringKeyPerS).toFixed(1)}× | ${j.cachedPerS ? `${n0(j.cachedPerS)}/s (${(1e6 / j.cachedPerS).toFixed(2)} µs)` : 'not measured'} |`,
    ),
    '',
    ...reviewSection(r.review),
    ...logSection(r.log),
    ...teamListSection(r.ownershipList),
    ...hostileSection(r.hostile),
    ...profileSection(r.profile),
    '## How these figures came to be',
    '',
    "This page is the last run on today's code and nothing else; how each figure moved, what was cut and what was tried and left, machine by machine, is the dated record in `bench/notes.md` (its one-off measurements are in `bench/lab/`), and earlier versions of this page are in git.",
    '',
    ...readmeSection(r),
  ];
  return `${lines.join('\n')}\n`;
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]?.toFixed(0)} / ${s[Math.floor(s.length / 2)]?.toFixed(0)} / ${s.at(-1)?.toFixed(0)} MB`;
}

function reviewSection(v?: ReviewFigures): string[] {
  if (!v) return ['## Audit review on 1,000,000 events', '', 'Skipped in this run (`--quick`).', ''];
  return [
    `## Audit review on ${n0(v.events)} events (${n0(v.rows)} entries)`,
    '',
    `\`bench/audit-review.ts\`, in a process of its own (gateway, simulator and client together, \`--expose-gc\`): ${n0(v.rows)} entries seeded in ${v.seedS.toFixed(0)} s.`,
    '',
    `- filtered page (one actor, a 3-day window, 50 events), ${v.page.requests} requests: p50 ${v.page.p50Ms.toFixed(1)} ms, p95 ${v.page.p95Ms.toFixed(1)} ms, max ${v.page.maxMs.toFixed(1)} ms`,
    ...v.exports.map(
      (e, i) =>
        `- export ${i + 1}, every event as NDJSON: ${n0(e.lines)} lines in ${e.seconds.toFixed(1)} s (${n0(e.eventsPerS)} events/s); RSS peak ${e.peakRssMb} MB, after ${e.afterRssMb} MB; heap after GC ${e.afterHeapMb} MB`,
    ),
    `- before the exports: RSS ${v.before.rssMb} MB, heap after GC ${v.before.heapMb} MB`,
    ...reviewFilterLines(v),
    '',
  ];
}

function hostileSection(f?: HostileFigures): string[] {
  if (!f) return ['## The audit trail under hostile input', '', 'Skipped in this run (`--quick`).', ''];
  return [
    '## The audit trail under hostile input',
    '',
    '`bench/audit-hostile.ts`, in a process of its own (gateway, simulator and client together): editors send refused bodies of up to `BODY_LIMIT` built to be expensive to record while `/healthz` is probed every 20 ms; then entries as the gateway stored them before the 64 KiB bound (3.8 MB each) are chained onto the trail and two verifications run at once (issue 18).',
    '',
    ...describeHostile(f),
    '',
  ];
}

function teamListSection(o?: OwnershipListFigures): string[] {
  if (!o) return [];
  const scale = (s: ListScale) => `${n0(s.applications)} / ${s.teams}`;
  const series = (s: ListScale, what: string, x: ListSeries) =>
    `| ${scale(s)} | ${what} | ${x.calls} | ${x.p50Ms.toFixed(1)} | ${x.p95Ms.toFixed(1)} | ${x.maxMs.toFixed(1)} | ${x.upstreamRequestsPerCall.toFixed(2)} |`;
  const large = o.scales.at(-1)!;
  return [
    '## A team’s application list (issue 12)',
    '',
    '`bench/ownership-list.ts`, in a process of its own (gateway, simulator and client together, `--expose-gc`). The simulator holds N applications (and its 3 examples), owned by T teams, 100 each; ownership is seeded through `POST /v1/ownership/import`, 1,000 pairs a call, every change audited. Each call is `GET /v1/applications?page_size=N&page=K` by a team-scoped `editor` of a random team, N cycling through ' +
      `${o.pageSizes.join(', ')}, K a random page of that team's; every answer is checked (\`total\` = 100, \`count\` as expected). ` +
      'Warm: the directory of upstream applications is younger than `OWNERSHIP_LIST_MAX_AGE_MS` (300 s for the series), so a call is one ownership read in Postgres and a filter in memory. Cold: the same gateway with the max age at 0, so every call walks the upstream list (1,000 a page, 4 pages at a time). Paced: the default max age (5 s), calls sent on schedule at a steady rate whatever the answers take, so the calls that arrive while a due walk runs wait for it.',
    '',
    '| applications / teams | directory | calls | p50 ms | p95 ms | max ms | upstream requests per call |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...o.scales.flatMap((s) => [
      series(s, 'warm (within the max age), sequential', s.warm),
      series(s, 'cold (max age 0: a walk per call), sequential', s.cold),
      series(s, `default max age (${s.paced.maxAgeMs / 1000} s), ${s.paced.rate} calls/s`, s.paced),
    ]),
    '',
    '| applications / teams | one walk: upstream requests | one walk, ms | the same pages straight from the simulator, ms | snapshot held, MB of heap | as JSON, MB | ownership import |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...o.scales.map(
      (s) =>
        `| ${scale(s)} | ${s.walk.requests} | ${s.walk.ms.toFixed(0)} | ${s.walk.simulatorMs.toFixed(0)} | ${s.snapshot.heapMb.toFixed(1)} | ${s.snapshot.jsonMb.toFixed(1)} | ${s.importCalls} calls, ${s.importS.toFixed(1)} s |`,
    ),
    '',
    `Upstream requests: none for a call within the max age; one walk (${o.scales.map((s) => `${s.walk.requests} requests at ${n0(s.applications)}`).join(', ')}) when the directory is older than the max age or was invalidated by a change through this instance, shared by every call that arrives while it runs. ` +
      `With nothing changed through the instance, the default 5 s means at most one walk per 5 s per gateway instance, whatever the call rate: ${o.scales.map((s) => `${(s.walk.requests / 5).toFixed(1)} upstream requests/s at ${n0(s.applications)}`).join(', ')}.`,
    '',
    `At ${n0(large.applications)} applications the cached path still costs p95 ${large.warm.p95Ms.toFixed(1)} ms (one ownership read and a filter over ${n0(large.applications)} objects per call), and the snapshot holds ${large.snapshot.heapMb.toFixed(0)} MB per instance. ` +
      `A walk grows with the upstream, not with the team: ${large.walk.requests} requests and ${n0(large.walk.ms)} ms (the same pages fetched straight from the simulator take ${n0(large.walk.simulatorMs)} ms: the simulator copies every application it holds for each page it serves, so its share grows with the square of the count, and it shares the cores with the gateway here), so a call that meets a due walk waits up to that long: p95 ${large.paced.p95Ms.toFixed(0)} ms at the default max age and ${large.paced.rate} calls/s, ${large.cold.p95Ms.toFixed(0)} ms walking on every call. ` +
      'Beyond that scale the walk, not the filter, is what to change (serve the previous snapshot while a due walk runs, or an index kept in Postgres); staleness stays bounded by the max age plus one walk.',
    '',
  ];
}

export function logSection(v?: LogFigures): string[] {
  if (!v) return ['## The audit log (Merkle tree, checkpoints, proofs)', '', 'Skipped in this run (`--quick`).', ''];
  const p = (x: LogFigures['inclusion']) =>
    `p50 ${x.p50Ms.toFixed(2)} ms, p99 ${x.p99Ms.toFixed(2)} ms, max ${x.maxMs.toFixed(1)} ms (${x.n} requests)`;
  const mode = (m: 'log off' | 'log on') => v.append.filter((a) => a.mode === m);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return [
    `## The audit log on ${n0(v.rows)} entries (Merkle tree, checkpoints, proofs)`,
    '',
    '`bench/audit-log.ts`, in a process of its own (gateway, simulator and client together, a fresh Postgres database). Issue 15.',
    '',
    '**Append cost** (audited mutations, concurrency 16, 10 s each, alternated; "log off" is the append path of before: the tree is not touched; "log on" integrates and signs every second):',
    '',
    '| mode | mutations/s | p50 | p99 |',
    '| --- | ---: | ---: | ---: |',
    ...v.append.map((a) => `| ${a.mode} | ${n0(a.perS)} | ${a.p50Ms.toFixed(1)} ms | ${a.p99Ms.toFixed(1)} ms |`),
    `| mean, off → on | ${n0(mean(mode('log off').map((a) => a.perS)))} → ${n0(mean(mode('log on').map((a) => a.perS)))} | | ${mean(mode('log off').map((a) => a.p99Ms)).toFixed(1)} → ${mean(mode('log on').map((a) => a.p99Ms)).toFixed(1)} ms |`,
    '',
    `- back-fill: ${n0(v.rows)} seeded entries (seeded in ${v.seedS.toFixed(0)} s) taken into the tree in ${v.backfillS.toFixed(0)} s (${n0(v.rows / v.backfillS)} entries/s), ${n0(v.treeNodes)} stored nodes`,
    ...(v.publicKey
      ? [
          `- the floor under every audit read (\`GET /v1/audit/public-key\`: authentication, limiter, the access entry): ${p(v.publicKey)}`,
        ]
      : []),
    `- inclusion proof over HTTP (recorded like every audit read): ${p(v.inclusion)}`,
    ...(v.inclusionGc
      ? [
          `  - GC while they were served: ${v.inclusionGc.pauses} pauses, ${v.inclusionGc.totalMs.toFixed(0)} ms in all, the longest ${v.inclusionGc.maxMs.toFixed(1)} ms`,
        ]
      : []),
    ...(v.inclusionInProcess
      ? [`- inclusion proof in the process (the proof and its checkpoint, one read): ${p(v.inclusionInProcess)}`]
      : []),
    `- consistency proof over HTTP: ${p(v.consistency)}`,
    `- latest checkpoint: ${p(v.checkpoint)}`,
    `- longest proof: ${v.maxProofHashes} hashes (bound ceil(log2 n) + 1 = ${v.bound})`,
    `- incremental \`/v1/audit/verify\` after ${n0(v.verify.newEntries)} new entries: ${v.verify.ms.map((m) => `${m.toFixed(0)} ms`).join(', ')}`,
    ...(v.offline
      ? [
          `- the offline verifier (\`npm run audit:verify\`, no database, no secret) on the tree of ${n0(v.offline.treeSize)} entries, a checkpoint kept at ${n0(v.offline.oldSize)}: each check as a process of its own, median of 5: (a) checkpoint ${v.offline.cli.checkpoint.toFixed(0)} ms, (b) inclusion ${v.offline.cli.inclusion.toFixed(0)} ms, (c) consistency ${v.offline.cli.consistency.toFixed(0)} ms, of which node and tsx starting take ${v.offline.cli.nothing.toFixed(0)} ms; the checks alone: ${v.offline.inProcess.checkpoint.toFixed(3)} / ${v.offline.inProcess.inclusion.toFixed(3)} / ${v.offline.inProcess.consistency.toFixed(3)} ms`,
        ]
      : []),
    '',
  ];
}

function profileSection(p?: BenchResults['profile']): string[] {
  if (!p) return [];
  return [
    '## Where the gateway’s CPU went (`--profile`)',
    '',
    `Self time over the gateway's whole run (${(p.totalMs / 1000).toFixed(0)} s, ${(p.idleShare * 100).toFixed(0)}% idle); profile kept at \`${p.file.replace(`${ROOT}/`, '')}\`.`,
    '',
    '| share | self ms | function | where |',
    '| ---: | ---: | --- | --- |',
    ...p.spots
      .slice(0, 20)
      .map((s) => `| ${(s.share * 100).toFixed(1)}% | ${s.selfMs.toFixed(0)} | \`${s.fn}\` | ${s.where} |`),
    '',
  ];
}

function readmeSection(r: BenchResults): string[] {
  const d = derive(r);
  const g = r.readsSaturated.gateway;
  return [
    '## For the README',
    '',
    '```markdown',
    '## Performance',
    '',
    `\`npm run bench\` (not part of \`npm test\`; about ${Math.ceil(r.runtimeS / 60)} minutes, \`-- --quick\` skips the 1,000,000-event audit review)`,
    'starts the simulator, a bare proxy (node:http + undici, key swap only: the floor) and the gateway as built for',
    'production — each in its own process, with a fresh Postgres database and Redis — drives them with autocannon,',
    'and writes [docs/benchmarks.md](docs/benchmarks.md) (tables, targets met or missed, latency chart) and',
    '`docs/benchmarks.json`. It needs the same Postgres and Redis as the tests (`TEST_DATABASE_URL`, `TEST_REDIS_URL`).',
    '',
    `Latest run (${r.date.slice(0, 10)}, ${r.machine.cores}-core ${r.machine.cpu}, Node ${r.machine.node}, everything on, logging to a file):`,
    '',
    '| | gateway | vs the floor |',
    '| --- | --- | --- |',
    `| reads at saturation | ${n0(g.rps)} rps, ${g.cpuMsPerRequest.toFixed(2)} ms CPU each | ${down2(d.readVsBare)}× the bare proxy |`,
    `| latency added at ${r.setup.rate} rps | p50 ${ms(d.addedP50)} ms, p99 ${ms(d.addedP99)} ms | |`,
    `| audited mutations at saturation | ${n0(r.mutationsSaturated.gateway.rps)} rps, ${r.mutationsSaturated.gateway.cpuMsPerRequest.toFixed(2)} ms CPU each | ${down2(d.mutationsVsReads)}× the gateway's reads |`,
    `| latency added to a mutation at ${r.setup.rate} rps | p99 ${ms(d.mutationAddedP99)} ms | two audit commits; the tail is garbage collection |`,
    `| reads with Redis-backed limits | ${n0(r.readsRedis.rps)} rps | ${d.redisVsMemory.toFixed(2)}× in-memory counters |`,
    `| memory (RSS) | ${r.memory.idleMb.toFixed(0)} MB idle, ${d.soakMaxMb.toFixed(0)} MB max under load | ${d.soakLastThirdMb <= d.soakFirstThirdMb * 1.1 ? 'no growth' : 'growing'} over a ${r.setup.soakS} s soak: ${d.soakFirstThirdMb.toFixed(0)} → ${d.soakLastThirdMb.toFixed(0)} MB |`,
    '',
    '**Capacity planning.** The gateway is CPU-bound and one Node process uses one core, so plan in requests per',
    `core and run one replica per core: a read costs ~${g.cpuMsPerRequest.toFixed(2)} ms of CPU at saturation, so a core serves about`,
    `**${roundDown(d.readsPerCore)} reads/s** of this class (at low rates each request costs more CPU in wake-ups, but there is`,
    'head-room then). Keep a replica under ~70% CPU to hold the latencies above — the p99 at saturation is',
    'queueing, not work — and add a replica when `process_cpu_seconds_total` on the metrics port stays above that.',
    `**Mutations** are capped lower: a mutation costs ~${r.mutationsSaturated.gateway.cpuMsPerRequest.toFixed(2)} ms of gateway CPU, and every audit entry of every`,
    'replica joins one chain: each group commit is one INSERT that takes the chain lock until its fsync (this',
    `run: ${roundDown(r.mutationsSaturated.gateway.rps)} mutations/s from one replica). More replicas help only as far as bigger group commits do; when`,
    '`gateway_audit_write_duration_seconds` climbs, the audit database (commit latency, CPU) is the limit, not the gateway.',
    `With Redis-backed limits a read costs ~${r.readsRedis.cpuMsPerRequest.toFixed(2)} ms (${d.redisVsMemory.toFixed(2)}× the throughput per core). Budget`,
    `${Math.ceil(d.soakMaxMb / 50) * 50} MB of memory per replica, plus ${r.review ? `~${Math.ceil(Math.max(...r.review.exports.map((e) => e.peakRssMb - r.review!.before.rssMb)) / 50) * 50} MB` : 'head-room'} while a full audit export runs.`,
    '```',
    '',
  ];
}

/** A figure rounded down to two significant digits: capacity should not be over-promised. */
function roundDown(x: number): string {
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(x)) - 1);
  return n0(Math.floor(x / magnitude) * magnitude);
}
