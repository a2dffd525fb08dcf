/**
 * The quick loop for tuning one path: builds the gateway, starts the simulator, the bare proxy and the gateway
 * (fresh Postgres database), and alternates saturated runs of one request shape between the bare proxy and the
 * gateway, printing rps, p99 and CPU per request of each. About a minute; not the report (`npm run bench` is).
 *
 *   npx tsx bench/lab/hot.ts [reads|mutations] [rounds=3] [seconds=8] [--profile] [--redis] [--rate=200]
 *   HOT_NODE_ARGS="--max-old-space-size=96" npx tsx bench/lab/hot.ts reads      (node flags for the gateway)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, warmUp, type BenchRequest } from '../lib/load';
import { adminHeaders, shapeRequests } from '../lib/scenarios';
import {
  buildGateway,
  cpuMsOf,
  createDatabase,
  freePort,
  ROOT,
  spawnService,
  type Service,
  spawnSimulator,
} from '../lib/services';
import { hotSpots } from '../profile';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SHAPE = args[0] ?? 'reads';
const ROUNDS = Number(args[1] ?? 3);
const SECONDS = Number(args[2] ?? 8);
const PROFILE = process.argv.includes('--profile');
const REDIS = process.argv.includes('--redis');
/** Paced at this many requests per second instead of saturated (for tail latency at a moderate rate). */
const RATE = Number(process.argv.find((a) => a.startsWith('--rate='))?.slice('--rate='.length) ?? 0) || undefined;
const SERVER_DB =
  process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const KEY = `dk-hot-${randomBytes(8).toString('hex')}`;
const SECRET = randomBytes(32).toString('hex');

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gateway-hot-'));
  const build = buildGateway();
  const db = await createDatabase(SERVER_DB);
  const services: Service[] = [];
  try {
    const sim = await spawnSimulator(KEY, join(work, 'sim.log'));
    services.push(sim);
    const bare = await spawnService({
      name: 'bare',
      nodeArgs: ['--import', 'tsx', join(ROOT, 'bench/bare-proxy.ts')],
      env: { BARE_UPSTREAM_URL: sim.url, BARE_DEVELOPER_KEY: KEY, BARE_CONNECTIONS: '32' },
      port: await freePort(),
      readyPath: '/v1/applications',
      logFile: join(work, 'bare.log'),
    });
    services.push(bare);
    const gw = await spawnService({
      name: 'gateway',
      nodeArgs: [
        ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(work, 'profile')}`] : []),
        ...(process.env.HOT_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        ...build.args,
      ],
      env: {
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        METRICS_PORT: '0',
        KLOUDLESS_API_URL: `${sim.url}/v1`,
        KLOUDLESS_DEVELOPER_KEY: KEY,
        JWT_SECRET: SECRET,
        JWT_ISSUER: 'https://idp.hot.invalid/',
        JWT_AUDIENCE: 'kloudless-gateway',
        DATABASE_URL: db.url,
        AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
        RATE_LIMIT_READS: '1000000',
        RATE_LIMIT_WRITES: '1000000',
        UPSTREAM_RATE_LIMIT: '100000',
        DATA_DIR: join(work, 'data'),
        ...(REDIS ? { REDIS_URL, REDIS_PREFIX: `kgw-hot-${randomBytes(4).toString('hex')}:` } : {}),
      },
      port: await freePort(),
      readyPath: '/readyz',
      logFile: join(work, 'gateway.log'),
    });
    services.push(gw);
    const headers = adminHeaders('hot', SECRET, 'https://idp.hot.invalid/');
    const requests = (target: Service): BenchRequest[] => shapeRequests(SHAPE, target, headers, 'hot');
    const targets = SHAPE === 'mutations' ? [gw] : [bare, gw];
    for (const t of targets)
      await warmUp({ label: t.name, url: t.url, headers, requests: requests(t), connections: 10, durationS: 2 }, 2);
    const totals = new Map<string, { rps: number[]; cpu: number[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        const cpu = cpuMsOf(t.pid);
        const r = await runLoad({
          label: t.name,
          url: t.url,
          headers,
          requests: requests(t),
          connections: 10,
          durationS: SECONDS,
          rate: RATE,
        });
        const perReq = (cpuMsOf(t.pid) - cpu) / Math.max(1, r.ok + r.failed);
        const entry = totals.get(t.name) ?? { rps: [], cpu: [] };
        entry.rps.push(r.rps);
        entry.cpu.push(perReq);
        totals.set(t.name, entry);
        process.stdout.write(
          `${t.name.padEnd(8)} ${r.rps.toFixed(0).padStart(6)} rps  p50 ${r.latency.p50.toFixed(2)}  p99 ${r.latency.p99.toFixed(2)} ms  ${r.failed} failed  ${perReq.toFixed(3)} ms CPU/req  RSS ${(t.rss() / 2 ** 20).toFixed(0)} MB\n`,
        );
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [name, t] of totals)
      process.stdout.write(`median ${name}: ${median(t.rps).toFixed(0)} rps, ${median(t.cpu).toFixed(3)} ms CPU/req\n`);
    if (totals.has('bare'))
      process.stdout.write(
        `gateway / bare (medians): ${(median(totals.get('gateway')!.rps) / median(totals.get('bare')!.rps)).toFixed(2)}×\n`,
      );
  } finally {
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
  if (PROFILE) {
    const dir = join(work, 'profile');
    const file = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!,
    );
    const { spots, byPackage } = hotSpots(file, 40);
    for (const p of byPackage.slice(0, 15))
      process.stdout.write(`  ${(p.share * 100).toFixed(1).padStart(5)}%  ${p.name}\n`);
    for (const s of spots) process.stdout.write(`  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.fn}  ${s.where}\n`);
    process.stdout.write(`profile kept at ${file}\n`);
  } else rmSync(work, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
