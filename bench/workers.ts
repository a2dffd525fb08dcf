/**
 * WORKERS=1 against WORKERS=2 (issue 16), in one session: builds the gateway, starts one simulator and two gateways
 * (each with its own fresh Postgres database, both with Redis-backed limits, which WORKERS>1 requires), and alternates
 * saturated runs between them for reads and for audited mutations (create + delete a webhook). Prints throughput,
 * latency and where the machine's CPU went: the gateway (primary and workers), the simulator and this process, the
 * load generator, all of which share the cores.
 *
 *   npx tsx bench/workers.ts [rounds=3] [seconds=8] [connections=20]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { runLoad, warmUp, type BenchRequest } from './lib/load';
import { mutations } from './lib/scenarios';
import { buildGateway, cpuMsOf, createDatabase, dropRedisKeys, freePort, ROOT, spawnService, type Service } from './lib/services';

const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 8);
const CONNECTIONS = Number(process.argv[4] ?? 20);
const SERVER_DB = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const KEY = `dk-workers-${randomBytes(8).toString('hex')}`;
const SECRET = randomBytes(32).toString('hex');
const PREFIX = `kgw-workers-${randomBytes(4).toString('hex')}:`;

/** The gateway's processes: the one started, and (WORKERS>1) the workers it forked. */
function family(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
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
  const dbs = [await createDatabase(SERVER_DB), await createDatabase(SERVER_DB)];
  const services: Service[] = [];
  process.stdout.write(`${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)} at the start; ${build.how}\n`);
  try {
    const sim = await spawnService({ name: 'simulator', nodeArgs: ['--import', 'tsx', join(ROOT, 'bench/simulator-process.ts')], env: { SIMULATOR_DEVELOPER_KEY: KEY }, port: await freePort(), readyPath: '/v1/applications', readyHeaders: { authorization: `DeveloperKey ${KEY}` }, logFile: join(work, 'sim.log') });
    services.push(sim);
    const gateway = async (workers: number, db: { url: string }) =>
      spawnService({
        name: `WORKERS=${workers}`,
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
          REDIS_PREFIX: `${PREFIX}${workers}:`,
          DATA_DIR: join(work, `data-${workers}`),
        },
        port: await freePort(),
        readyPath: '/readyz',
        logFile: join(work, `gateway-${workers}.log`),
      });
    const gws = [await gateway(1, dbs[0]!), await gateway(2, dbs[1]!)];
    services.push(...gws);
    const token = jwt.sign({ sub: 'workers', roles: ['admin'] }, SECRET, { algorithm: 'HS256', expiresIn: 3600, issuer: 'https://idp.workers.invalid/', audience: 'kloudless-gateway' });
    const headers = { authorization: `Bearer ${token}` };
    const shapes: Record<string, (t: Service) => BenchRequest[]> = {
      reads: () => [{ method: 'GET', path: '/v1/applications' }],
      mutations: (t) => mutations({ url: t.url, headers, service: t }, `w-${randomBytes(3).toString('hex')}-`, new Set()),
    };
    for (const [shape, requests] of Object.entries(shapes)) {
      for (const g of gws) await warmUp({ label: g.name, url: g.url, headers, requests: requests(g), connections: CONNECTIONS, durationS: 2 }, 2);
    }
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [shape, requests] of Object.entries(shapes)) {
        for (const g of round % 2 ? [...gws].reverse() : gws) {
          const pids = family(g.pid);
          const before = { gw: cpuOf(pids), sim: cpuMsOf(sim.pid), own: ownCpuMs(), at: performance.now() };
          const r = await runLoad({ label: g.name, url: g.url, headers, requests: requests(g), connections: CONNECTIONS, durationS: SECONDS });
          const wallMs = performance.now() - before.at;
          const spent = [cpuOf(pids) - before.gw, cpuMsOf(sim.pid) - before.sim, ownCpuMs() - before.own];
          const n = Math.max(1, r.ok);
          const sample: Sample = {
            rps: r.rps,
            p50: r.latency.p50,
            p99: r.latency.p99,
            failed: r.failed,
            gatewayCpu: spent[0]! / n,
            simulatorCpu: spent[1]! / n,
            loadCpu: spent[2]! / n,
            cores: spent.map((ms) => ms / wallMs) as [number, number, number],
          };
          const key = `${shape} ${g.name}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          process.stdout.write(`${key.padEnd(20)} ${r.rps.toFixed(0).padStart(6)} rps  p50 ${r.latency.p50.toFixed(2)}  p99 ${r.latency.p99.toFixed(2)} ms  ${r.failed} failed  CPU/req gateway ${sample.gatewayCpu.toFixed(3)} sim ${sample.simulatorCpu.toFixed(3)} load ${sample.loadCpu.toFixed(3)} ms  cores ${sample.cores.map((c) => c.toFixed(2)).join(' / ')}\n`);
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    process.stdout.write('\nmedians (cores: gateway / simulator / load generator)\n');
    for (const [key, s] of samples) {
      const m = (f: (x: Sample) => number) => median(s.map(f));
      process.stdout.write(`${key.padEnd(20)} ${m((x) => x.rps).toFixed(0).padStart(6)} rps  p50 ${m((x) => x.p50).toFixed(2)}  p99 ${m((x) => x.p99).toFixed(2)} ms  gateway CPU/req ${m((x) => x.gatewayCpu).toFixed(3)} ms  cores ${m((x) => x.cores[0]).toFixed(2)} / ${m((x) => x.cores[1]).toFixed(2)} / ${m((x) => x.cores[2]).toFixed(2)}\n`);
    }
    for (const shape of Object.keys(shapes)) {
      const one = median(samples.get(`${shape} WORKERS=1`)!.map((x) => x.rps));
      const two = median(samples.get(`${shape} WORKERS=2`)!.map((x) => x.rps));
      process.stdout.write(`${shape}: WORKERS=2 / WORKERS=1 = ${(two / one).toFixed(2)}×\n`);
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
