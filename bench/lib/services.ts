import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { createClient } from 'redis';

export const ROOT = join(__dirname, '..', '..');
/**
 * Where the gateway is built for the benchmark, as `npm run build` builds it (dist/ is left alone). The
 * migrations and package.json are copied beside it, where the code finds them from dist/ (`<build>/../prisma/…`).
 */
const BUILD_ROOT = join(ROOT, 'node_modules', '.cache', 'gateway-bench');
export const BUILD_DIR = join(BUILD_ROOT, 'dist');

export interface Service {
  name: string;
  url: string;
  pid: number;
  /** Resident set size from /proc, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Compiles the gateway with the production build's tsconfig into BUILD_DIR. Returns the command that starts
 * it: `node --enable-source-maps <entry>`, as `npm start` does. If another engineer's half-finished edit
 * does not compile, falls back to running the sources with tsx, and says so.
 */
export function buildGateway(): { args: string[]; how: string } {
  rmSync(BUILD_ROOT, { recursive: true, force: true });
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD_DIR],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (tsc.status === 0) {
    cpSync(join(ROOT, 'src/app-ui/static'), join(BUILD_DIR, 'app-ui/static'), { recursive: true });
    cpSync(join(ROOT, 'prisma/migrations'), join(BUILD_ROOT, 'prisma/migrations'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(BUILD_ROOT, 'package.json'));
    // `npm start`'s own flags (the V8 memory settings among them: issue 26), so the bench runs the default start command.
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
      .scripts.start;
    const flags = start.split(' ').filter((a) => a.startsWith('--'));
    return {
      args: [...flags, join(BUILD_DIR, 'index.js')],
      how: `compiled with tsconfig.build.json, run as \`node ${flags.join(' ')} index.js\` (as \`npm start\`)`,
    };
  }
  process.stdout.write(`  build failed, running the sources with tsx instead:\n${tsc.stdout}${tsc.stderr}\n`);
  return { args: ['--import', 'tsx', join(ROOT, 'src/index.ts')], how: 'sources run with tsx (the build failed)' };
}

export interface SpawnOptions {
  name: string;
  nodeArgs: string[];
  env: Record<string, string>;
  port: number;
  /** Polled until it answers 2xx. */
  readyPath: string;
  readyHeaders?: Record<string, string>;
  /** stdout and stderr go to this file (the gateway's one log line per request never passes through this process). */
  logFile: string;
}

export async function spawnService(o: SpawnOptions): Promise<Service> {
  const out = openSync(o.logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, o.nodeArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...o.env, PORT: String(o.port) },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const url = `http://127.0.0.1:${o.port}`;
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${code ?? signal}`;
      resolve();
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`${o.name} ${exited} before it was ready; see ${o.logFile}:\n${tail(o.logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${o.name} not ready after 60 s:\n${tail(o.logFile)}`);
    }
    const ok = await fetch(`${url}${o.readyPath}`, { headers: o.readyHeaders }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name: o.name,
    url,
    pid: child.pid!,
    rss: () => rssOf(child.pid!),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/** A fresh database of the benchmark's own on the server Postgres, dropped afterwards. */
export async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gw_bench_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export async function admin<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Removes the counters a run left under its own prefix (they would expire with the window anyway). */
export async function dropRedisKeys(url: string, prefix: string): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  let dropped = 0;
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      const batch = ([] as string[]).concat(keys as string | string[]);
      if (batch.length > 0) dropped += await client.del(batch);
    }
  } finally {
    await client.close();
  }
  return dropped;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU time (user + system) a process has used so far, in ms: what a request costs, whatever else the machine runs. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** The simulator as the bench's upstream, in a process of its own, answering once it serves with `developerKey`. */
export async function spawnSimulator(developerKey: string, logFile: string): Promise<Service> {
  return spawnService({
    name: 'simulator',
    nodeArgs: ['--import', 'tsx', join(ROOT, 'bench/simulator-process.ts')],
    env: { SIMULATOR_DEVELOPER_KEY: developerKey },
    port: await freePort(),
    readyPath: '/v1/applications',
    readyHeaders: { authorization: `DeveloperKey ${developerKey}` },
    logFile,
  });
}
