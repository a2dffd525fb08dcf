/**
 * WORKERS=1 against WORKERS=2 (issue 16), in one session: builds the gateway, starts one simulator and the targets,
 * each on its own fresh Postgres database and all with Redis-backed limits (which WORKERS>1 requires), and alternates
 * saturated runs between them for reads and for audited mutations (create + delete a webhook). Prints throughput,
 * latency and where the machine's CPU went: the gateway (primary and workers), the simulator and this process, the
 * load generator, all of which share the cores. With --replicas, a third target: two WORKERS=1 gateways on one
 * database, each driven with half the connections (two replicas behind a balancer, on the same machine).
 *
 * Each target is warmed first with --warm seconds of each shape: a worker's JIT warms on its own share of the
 * requests, so N workers need N times the requests of one to reach the same per-request cost (a cold worker costs
 * 2–3× the CPU per read of a warm one; measured while writing this).
 *
 *   npx tsx bench/lab/workers.ts [rounds=3] [seconds=8] [connections=20] [--replicas] [--warm=15]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type BenchRequest } from '../lib/load';
import { adminHeaders, shapeRequests } from '../lib/scenarios';
import {
  buildGateway,
  cpuMsOf,
  createDatabase,
  dropRedisKeys,
  freePort,
  spawnService,
  type Service,
  spawnSimulator,
} from '../lib/services';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const ROUNDS = Number(args[0] ?? 3);
const SECONDS = Number(args[1] ?? 8);
const CONNECTIONS = Number(args[2] ?? 20);
const REPLICAS = process.argv.includes('--replicas');
const WARM_S = Number(process.argv.find((a) => a.startsWith('--warm='))?.slice('--warm='.length) ?? 15);
const SERVER_DB =
  process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const KEY = `dk-workers-${randomBytes(8).toString('hex')}`;
const SECRET = randomBytes(32).toString('hex');
const PREFIX = `kgw-workers-${randomBytes(4).toString('hex')}:`;

/** The gateway's processes: the one started, and (WORKERS>1) the workers it forked. */
function family(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return [pid, ...children];
}
const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU ms per answered request: the gateway's processes, the simulator, this process. */
  gatewayCpu: number;
  simulatorCpu: number;
  loadCpu: number;
  /** Share of the machine's CPU time over the run, in cores: gateway, simulator, load generator. */
  cores: [number, number, number];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gateway-workers-'));
  const build = buildGateway();
  const dbs = await Promise.all(Array.from({ length: REPLICAS ? 3 : 2 }, () => createDatabase(SERVER_DB)));
  const services: Service[] = [];
  process.stdout.write(
    `${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)} at the start; ${build.how}\n`,
  );
  try {
    const sim = await spawnSimulator(KEY, join(work, 'sim.log'));
    services.push(sim);
    const gateway = async (name: string, workers: number, db: { url: string }, prefix: string) =>
      spawnService({
        name,
        nodeArgs: build.args,
        env: {
          NODE_ENV: 'development',
          HOST: '127.0.0.1',
          METRICS_PORT: '0',
          WORKERS: String(workers),
          KLOUDLESS_API_URL: `${sim.url}/v1`,
          KLOUDLESS_DEVELOPER_KEY: KEY,
          JWT_SECRET: SECRET,
          JWT_ISSUER: 'https://idp.workers.invalid/',
          JWT_AUDIENCE: 'kloudless-gateway',
          DATABASE_URL: db.url,
          AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
          RATE_LIMIT_READS: '1000000',
          RATE_LIMIT_WRITES: '1000000',
          UPSTREAM_RATE_LIMIT: '100000',
          REDIS_URL,
          REDIS_PREFIX: `${PREFIX}${prefix}:`,
          DATA_DIR: join(work, `data-${name}`),
        },
        port: await freePort(),
        readyPath: '/readyz',
        logFile: join(work, `${name}.log`),
      });
    /** What one target is: the processes started for it (each driven with its share of the connections). */
    const targets: { name: string; services: Service[] }[] = [
      { name: 'WORKERS=1', services: [await gateway('WORKERS=1', 1, dbs[0]!, 'w1')] },
      { name: 'WORKERS=2', services: [await gateway('WORKERS=2', 2, dbs[1]!, 'w2')] },
    ];
    if (REPLICAS)
      targets.push({
        name: '2 replicas',
        services: [await gateway('replica-a', 1, dbs[2]!, 'r'), await gateway('replica-b', 1, dbs[2]!, 'r')],
      });
    services.push(...targets.flatMap((t) => t.services));
    const headers = adminHeaders('workers', SECRET, 'https://idp.workers.invalid/');
    const shapes: Record<string, (t: Service) => BenchRequest[]> = {
      reads: () => [{ method: 'GET', path: '/v1/applications' }],
      mutations: (t) => shapeRequests('mutations', t, headers, 'w'),
    };
    const drive = (t: (typeof targets)[number], requests: (s: Service) => BenchRequest[], durationS: number) =>
      Promise.all(
        t.services.map((g) =>
          runLoad({
            label: g.name,
            url: g.url,
            headers,
            requests: requests(g),
            connections: CONNECTIONS / t.services.length,
            durationS,
          }),
        ),
      );
    for (const requests of Object.values(shapes)) for (const t of targets) await drive(t, requests, WARM_S);
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [shape, requests] of Object.entries(shapes)) {
        for (const t of round % 2 ? [...targets].reverse() : targets) {
          const pids = t.services.flatMap((g) => family(g.pid));
          const before = { gw: cpuOf(pids), sim: cpuMsOf(sim.pid), own: ownCpuMs(), at: performance.now() };
          const runs = await drive(t, requests, SECONDS);
          const wallMs = performance.now() - before.at;
          const spent = [cpuOf(pids) - before.gw, cpuMsOf(sim.pid) - before.sim, ownCpuMs() - before.own];
          const ok = runs.reduce((sum, r) => sum + r.ok, 0);
          const n = Math.max(1, ok);
          // Two replicas' latencies are two distributions: the worse percentile of the two is shown.
          const sample: Sample = {
            rps: runs.reduce((sum, r) => sum + r.rps, 0),
            p50: Math.max(...runs.map((r) => r.latency.p50)),
            p99: Math.max(...runs.map((r) => r.latency.p99)),
            failed: runs.reduce((sum, r) => sum + r.failed, 0),
            gatewayCpu: spent[0]! / n,
            simulatorCpu: spent[1]! / n,
            loadCpu: spent[2]! / n,
            cores: spent.map((ms) => ms / wallMs) as [number, number, number],
          };
          const key = `${shape} ${t.name}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          process.stdout.write(
            `${key.padEnd(22)} ${sample.rps.toFixed(0).padStart(6)} rps  p50 ${sample.p50.toFixed(2)}  p99 ${sample.p99.toFixed(2)} ms  ${sample.failed} failed  CPU/req gateway ${sample.gatewayCpu.toFixed(3)} sim ${sample.simulatorCpu.toFixed(3)} load ${sample.loadCpu.toFixed(3)} ms  cores ${sample.cores.map((c) => c.toFixed(2)).join(' / ')}\n`,
          );
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    process.stdout.write('\nmedians (cores: gateway / simulator / load generator)\n');
    for (const [key, s] of samples) {
      const m = (f: (x: Sample) => number) => median(s.map(f));
      process.stdout.write(
        `${key.padEnd(22)} ${m((x) => x.rps)
          .toFixed(0)
          .padStart(
            6,
          )} rps  p50 ${m((x) => x.p50).toFixed(2)}  p99 ${m((x) => x.p99).toFixed(2)} ms  gateway CPU/req ${m((x) => x.gatewayCpu).toFixed(3)} ms  cores ${m((x) => x.cores[0]).toFixed(2)} / ${m((x) => x.cores[1]).toFixed(2)} / ${m((x) => x.cores[2]).toFixed(2)}\n`,
      );
    }
    for (const shape of Object.keys(shapes)) {
      const one = median(samples.get(`${shape} WORKERS=1`)!.map((x) => x.rps));
      for (const t of targets.slice(1)) {
        const other = median(samples.get(`${shape} ${t.name}`)!.map((x) => x.rps));
        process.stdout.write(`${shape}: ${t.name} / WORKERS=1 = ${(other / one).toFixed(2)}×\n`);
      }
    }
  } finally {
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    for (const db of dbs) await db.drop().catch(() => undefined);
    await dropRedisKeys(REDIS_URL, PREFIX).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
