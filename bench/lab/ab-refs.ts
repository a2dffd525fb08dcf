/**
 * A/B of two versions of the gateway in one session (issue 16): each runs in a process of its own (sources through
 * tsx, its own fresh Postgres database), in front of one simulator, and the load alternates between them round by
 * round so both see the same machine at the same moments. The figures to compare are the B/A ratios.
 *
 *   npx tsx bench/lab/ab-refs.ts <refA> [refB] [--shape=reads|mutations] [--rounds=4] [--seconds=6] [--rate=200]
 *                            [--node-a="--max-semi-space-size=4"] [--node-b=…] [--env-a=K=V,K=V] [--env-b=…]
 *
 * refA / refB: a git commit (extracted with `git archive` into a temporary directory, with its own dependencies when
 * its lockfile differs from this checkout's) or `.` for the working tree
 * (refB defaults to `.`). `--rate` paces the load (latency at a moderate rate) instead of saturating.
 */
import { execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, warmUp, type BenchRequest } from '../lib/load';
import { adminHeaders, shapeRequests } from '../lib/scenarios';
import { cpuMsOf, createDatabase, freePort, ROOT, spawnService, type Service, spawnSimulator } from '../lib/services';

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const refs = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SHAPE = flag('shape') ?? 'reads';
const ROUNDS = Number(flag('rounds') ?? 4);
const SECONDS = Number(flag('seconds') ?? 6);
const RATE = Number(flag('rate') ?? 0) || undefined;
const SERVER_DB =
  process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const KEY = `dk-ab-${randomBytes(8).toString('hex')}`;
const SECRET = randomBytes(32).toString('hex');
const envList = (s?: string) =>
  Object.fromEntries(
    (s ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );

/** The tree of `ref`: the working tree for `.`, else the commit extracted beside this checkout's node_modules. */
function treeOf(ref: string, work: string, name: string): { dir: string; label: string } {
  if (ref === '.')
    return {
      dir: ROOT,
      label: `working tree (${execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim()}+)`,
    };
  const dir = join(work, name);
  execSync(`mkdir -p ${dir} && git archive ${ref} | tar -x -C ${dir}`, { cwd: ROOT });
  symlinkSync(modulesFor(ref, dir), join(dir, 'node_modules'));
  return { dir, label: `${ref} (${execSync(`git rev-parse --short ${ref}`, { cwd: ROOT }).toString().trim()})` };
}

/**
 * node_modules for `ref`: this checkout's when the lockfiles match, else the ref's own, installed once per lockfile
 * (kept under node_modules/.cache/ab-installs), so a commit from before a dependency changed still runs.
 */
function modulesFor(ref: string, dir: string): string {
  const lock = readFileSync(join(dir, 'package-lock.json'));
  if (lock.equals(readFileSync(join(ROOT, 'package-lock.json')))) return join(ROOT, 'node_modules');
  const installed = join(
    ROOT,
    'node_modules/.cache/ab-installs',
    createHash('sha256').update(lock).digest('hex').slice(0, 16),
  );
  if (!existsSync(join(installed, 'node_modules'))) {
    process.stdout.write(`installing ${ref}'s dependencies (its lockfile differs) into ${installed}\n`);
    mkdirSync(installed, { recursive: true });
    copyFileSync(join(dir, 'package.json'), join(installed, 'package.json'));
    copyFileSync(join(dir, 'package-lock.json'), join(installed, 'package-lock.json'));
    execSync('npm ci --no-audit --no-fund --ignore-scripts', { cwd: installed, stdio: 'ignore' });
  }
  return join(installed, 'node_modules');
}

async function main(): Promise<void> {
  if (refs.length < 1) throw new Error('usage: npx tsx bench/lab/ab-refs.ts <refA> [refB]');
  const work = mkdtempSync(join(tmpdir(), 'gateway-ab-'));
  const services: Service[] = [];
  const drops: (() => Promise<void>)[] = [];
  try {
    const trees = [treeOf(refs[0]!, work, 'a'), treeOf(refs[1] ?? '.', work, 'b')];
    const sim = await spawnSimulator(KEY, join(work, 'sim.log'));
    services.push(sim);
    const gateways: Service[] = [];
    for (const [i, tree] of trees.entries()) {
      const db = await createDatabase(SERVER_DB);
      drops.push(() => db.drop());
      const side = i === 0 ? 'a' : 'b';
      const gw = await spawnService({
        name: `${side.toUpperCase()}: ${tree.label}`,
        nodeArgs: [
          ...(flag(`node-${side}`)?.split(' ').filter(Boolean) ?? []),
          '--import',
          'tsx',
          join(tree.dir, 'src/index.ts'),
        ],
        env: {
          NODE_ENV: 'development',
          HOST: '127.0.0.1',
          METRICS_PORT: '0',
          KLOUDLESS_API_URL: `${sim.url}/v1`,
          KLOUDLESS_DEVELOPER_KEY: KEY,
          JWT_SECRET: SECRET,
          JWT_ISSUER: 'https://idp.ab.invalid/',
          JWT_AUDIENCE: 'kloudless-gateway',
          DATABASE_URL: db.url,
          AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
          RATE_LIMIT_READS: '1000000',
          RATE_LIMIT_WRITES: '1000000',
          UPSTREAM_RATE_LIMIT: '100000',
          DATA_DIR: join(work, `data-${side}`),
          LOG_LEVEL: 'info',
          ...envList(flag(`env-${side}`)),
        },
        port: await freePort(),
        readyPath: '/readyz',
        logFile: join(work, `gateway-${side}.log`),
      });
      services.push(gw);
      gateways.push(gw);
    }
    const headers = adminHeaders('ab', SECRET, 'https://idp.ab.invalid/');
    const requests = (gw: Service): BenchRequest[] => shapeRequests(SHAPE, gw, headers, 'ab');
    for (const gw of gateways)
      await warmUp({ label: gw.name, url: gw.url, headers, requests: requests(gw), connections: 10, durationS: 3 }, 3);
    const figures = gateways.map(() => ({
      rps: [] as number[],
      cpu: [] as number[],
      p50: [] as number[],
      p99: [] as number[],
      rss: [] as number[],
    }));
    process.stdout.write(
      `${SHAPE}, ${RATE ? `${RATE} rps paced` : 'saturated'}, 10 connections, ${ROUNDS} rounds × ${SECONDS} s, alternating\n`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so neither always follows the other.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const gw = gateways[i]!;
        const cpu = cpuMsOf(gw.pid);
        const r = await runLoad({
          label: gw.name,
          url: gw.url,
          headers,
          requests: requests(gw),
          connections: 10,
          durationS: SECONDS,
          rate: RATE,
        });
        const perReq = (cpuMsOf(gw.pid) - cpu) / Math.max(1, r.ok + r.failed);
        const f = figures[i]!;
        f.rps.push(r.rps);
        f.cpu.push(perReq);
        f.p50.push(r.latency.p50);
        f.p99.push(r.latency.p99);
        f.rss.push(gw.rss() / 2 ** 20);
        process.stdout.write(
          `  ${i === 0 ? 'A' : 'B'}  ${r.rps.toFixed(0).padStart(6)} rps  p50 ${r.latency.p50.toFixed(2)}  p99 ${r.latency.p99.toFixed(2)} ms  ${perReq.toFixed(3)} ms CPU/req  ${r.failed} failed  RSS ${(gw.rss() / 2 ** 20).toFixed(0)} MB\n`,
        );
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const m = figures.map((f) => ({
      rps: median(f.rps),
      cpu: median(f.cpu),
      p50: median(f.p50),
      p99: median(f.p99),
      rss: Math.max(...f.rss),
    }));
    for (const [i, gw] of gateways.entries())
      process.stdout.write(
        `median ${gw.name}: ${m[i]!.rps.toFixed(0)} rps, ${m[i]!.cpu.toFixed(3)} ms CPU/req, p50 ${m[i]!.p50.toFixed(2)} ms, p99 ${m[i]!.p99.toFixed(2)} ms, RSS max ${m[i]!.rss.toFixed(0)} MB\n`,
      );
    const [a, b] = m as [(typeof m)[0], (typeof m)[0]];
    process.stdout.write(
      `B / A: throughput ${(b.rps / a.rps).toFixed(2)}×, CPU per request ${(b.cpu / a.cpu).toFixed(2)}×, p50 ${b.p50 - a.p50 >= 0 ? '+' : ''}${(b.p50 - a.p50).toFixed(2)} ms, p99 ${b.p99 - a.p99 >= 0 ? '+' : ''}${(b.p99 - a.p99).toFixed(2)} ms\n`,
    );
  } finally {
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    for (const d of drops) await d().catch(() => undefined);
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
