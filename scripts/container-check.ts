/**
 * `npm run container:check`: Docker cannot run on our build machines, so this replays the Dockerfile
 * without it. It parses the Dockerfile into a plan, then in a fresh temporary directory runs that plan
 * and nothing else: each stage is a directory standing for its WORKDIR; COPYs from the build context
 * take files from `git ls-files` less .dockerignore; RUNs go through `/bin/sh -c` like Docker's shell
 * form; the image's migration command runs as the schema's owner, then the runtime CMD starts with the
 * runtime ENV, as an unprivileged user, under a least-privilege database role, with every secret a file owned
 * by that user (scripts/container-deployment.ts); the HEALTHCHECK command must pass, a read and a mutation must
 * be forwarded over TLS to the simulator and recorded, every migration must be recorded, and SIGTERM must end
 * the process with 0 within Docker's default stop grace period.
 *
 *   --print-plan    print the plan (scripts/dockerfile.ts, the one reader of the Dockerfile) as JSON and run nothing
 *   --tracked-only  the build context is tracked files only (default: tracked files plus untracked ones
 *                   git does not ignore, i.e. what committing the working tree would ship; the same in CI)
 *   --keep          keep the temporary directory
 *
 * The Dockerfile is read by scripts/dockerfile.ts, which refuses any instruction the replay does not model.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { grantRuntimeRole, prepareDeployment } from './container-deployment';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { parseDockerfile, type Plan, type Stage, type Step } from './dockerfile';

const ROOT = resolve(__dirname, '..');

// ---------------------------------------------------------------- the build context

/** Docker's pattern language (Go's filepath.Match plus `**`), anchored at the context root. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < glob.length) re += escapeRegExp(glob[++i]!);
    else if (c === '[' && glob.indexOf(']', i + 2) > i) {
      const end = glob.indexOf(']', i + 2);
      re += `[${glob
        .slice(i + 1, end)
        .replace(/^[!^]/, '^')
        .replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** .dockerignore: the last matching pattern wins; a pattern matching a directory excludes what is inside. */
function dockerignore(): (path: string) => boolean {
  const file = join(ROOT, '.dockerignore');
  const rules = (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [])
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      return { negate, re: globToRegExp(pattern) };
    });
  return (path) => {
    const selfAndParents = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (selfAndParents.some((p) => rule.re.test(p))) ignored = !rule.negate;
    return ignored;
  };
}

export function buildContext(trackedOnly: boolean): string[] {
  const args = ['ls-files', '-z', '--cached', ...(trackedOnly ? [] : ['--others', '--exclude-standard'])];
  const listed = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const ignored = dockerignore();
  // --cached also lists tracked files deleted from the working tree; Docker would not see them.
  return [...new Set(listed.stdout.split('\0'))].filter((f) => f && existsSync(join(ROOT, f)) && !ignored(f)).sort();
}

// ---------------------------------------------------------------- replaying it

interface StageDir {
  dir: string;
  workdir: string;
}

/** A path inside a stage's file system, as a path in its directory (only the WORKDIR is modelled). */
function inStage(path: string, stage: StageDir): string {
  const relative = posix.relative(stage.workdir, posix.resolve(stage.workdir, path));
  if (relative.startsWith('..'))
    throw new Error(`${path} is outside WORKDIR ${stage.workdir}, which is all the replay models`);
  return join(stage.dir, relative);
}

/** COPY from the build context: a directory's contents go into the destination, files by name. */
function copyFromContext(step: Extract<Step, { kind: 'copy' }>, to: StageDir, context: string[]): number {
  const many = step.sources.length > 1 || step.sources.some((s) => /[*?[]/.test(s));
  if (many && !step.dest.endsWith('/'))
    throw new Error(`COPY ${step.sources.join(' ')} ${step.dest}: several sources need a destination ending in /`);
  const target = inStage(step.dest, to);
  let copied = 0;
  for (const source of step.sources) {
    const clean = posix.normalize(source).replace(/^(\.\/)+|\/+$/g, '');
    const depth = clean.split('/').length;
    const re = clean === '.' ? /^/ : globToRegExp(clean);
    const entries = new Set(
      context.map((f) => (clean === '.' ? '' : f.split('/').slice(0, depth).join('/'))).filter((e) => re.test(e)),
    );
    if (entries.size === 0)
      throw new Error(`COPY ${source}: not in the build context (git ls-files less .dockerignore)`);
    for (const entry of entries) {
      const isFile = context.includes(entry);
      for (const file of isFile ? [entry] : context.filter((f) => entry === '' || f.startsWith(`${entry}/`))) {
        const rest = isFile
          ? step.dest.endsWith('/')
            ? basename(file)
            : ''
          : file.slice(entry === '' ? 0 : entry.length + 1);
        const destination = rest ? join(target, rest) : target;
        mkdirSync(dirname(destination), { recursive: true });
        cpSync(join(ROOT, file), destination, { verbatimSymlinks: true });
        copied++;
      }
    }
  }
  return copied;
}

function copyFromStage(step: Extract<Step, { kind: 'copy' }>, from: StageDir, to: StageDir): number {
  for (const source of step.sources) {
    const path = inStage(source, from);
    if (!existsSync(path)) throw new Error(`COPY --from: ${source} does not exist in that stage`);
    const into =
      statSync(path).isFile() && step.dest.endsWith('/')
        ? join(inStage(step.dest, to), basename(path))
        : inStage(step.dest, to);
    mkdirSync(dirname(into), { recursive: true });
    cpSync(path, into, { recursive: true, verbatimSymlinks: true });
  }
  return step.sources.length;
}

/** What the image's base layer provides, in place of the caller's environment (npm's own variables would leak the repo in). */
function baseEnv(): Record<string, string> {
  const path = (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin')
    .split(':')
    .filter((p) => p && !p.includes('node_modules') && !p.includes('node-gyp-bin') && !p.startsWith(ROOT))
    .join(':');
  const passed = [
    'NODE_EXTRA_CA_CERTS',
    'SSL_CERT_FILE',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
  ];
  return { PATH: path, ...Object.fromEntries(passed.filter((k) => process.env[k]).map((k) => [k, process.env[k]!])) };
}

function say(message: string): void {
  process.stdout.write(`==> ${message}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function durationMs(text: string | undefined, fallback: number): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text ?? '');
  if (!match) return fallback;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

async function freePort(): Promise<number> {
  const server = await listen(createServer());
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

function listen(server: Server): Promise<Server> {
  return new Promise((done, failed) => server.once('error', failed).listen(0, '127.0.0.1', () => done(server)));
}

function psql(url: string, sql: string): string {
  const result = spawnSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql failed (${sql}): ${result.stderr || result.error?.message}`);
  return result.stdout.trim();
}

function exited(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: string | null } | undefined> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((done) => {
    const timer = setTimeout(() => done(undefined), ms);
    child.once('exit', (code, signal) => (clearTimeout(timer), done({ code, signal })));
  });
}

/** One HEALTHCHECK attempt, as Docker runs it: the shell form in the container's environment, killed at --timeout. */
function healthcheckOnce(
  command: string[],
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((done) => {
    const probe = spawn(command[0]!, command.slice(1), { cwd, env, stdio: 'ignore' });
    const timer = setTimeout(() => probe.kill('SIGKILL'), timeoutMs);
    probe.once('error', () => (clearTimeout(timer), done(false)));
    probe.once('exit', (code) => (clearTimeout(timer), done(code === 0)));
  });
}

async function replay(plan: Plan, keep: boolean): Promise<void> {
  const started = Date.now();
  const runtime = plan.stages[plan.stages.length - 1]!;
  const imageMajor = /^node:(\d+)/.exec(runtime.image)?.[1];
  if (imageMajor && imageMajor !== process.versions.node.split('.')[0])
    throw new Error(`the image runs Node ${imageMajor}, this replay Node ${process.version}`);
  process.umask(0o022); // Docker's; files must be readable by the unprivileged runtime user

  const stray = tmpdir()
    .split('/')
    .map((_, i, parts) => join('/', ...parts.slice(0, i + 1), 'node_modules'))
    .find((p) => existsSync(p));
  if (stray) throw new Error(`${stray} exists: modules would resolve from outside the replayed image`);
  const root = mkdtempSync(join(tmpdir(), 'container-check-'));
  chmodSync(root, 0o755);
  const cleanups: (() => Promise<void> | void)[] = [
    () => (keep ? say(`kept ${root}`) : rmSync(root, { recursive: true, force: true })),
  ];
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  async function cleanup() {
    for (const step of cleanups.reverse().splice(0))
      await Promise.resolve(step()).catch((err: Error) => process.stderr.write(`cleanup: ${err.message}\n`));
  }
  say(`replaying ${plan.dockerfile} in ${root} (build context: ${plan.context.length} files)`);

  try {
    const dirs = new Map<string, StageDir>();
    for (const stage of plan.stages) {
      const here: StageDir = { dir: join(root, stage.name), workdir: stage.workdir };
      mkdirSync(here.dir);
      dirs.set(stage.name, here);
      const env: Record<string, string> = {};
      for (const [index, step] of stage.steps.entries()) {
        const label = `[${stage.name} ${index + 1}/${stage.steps.length}]`;
        const t = Date.now();
        if (step.kind === 'env') {
          Object.assign(env, step.vars);
          say(
            `${label} ENV ${Object.entries(step.vars)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`,
          );
        } else if (step.kind === 'copy') {
          say(`${label} COPY ${step.from ? `--from=${step.from} ` : ''}${step.sources.join(' ')} ${step.dest}`);
          const files = step.from
            ? copyFromStage(step, dirs.get(step.from)!, here)
            : copyFromContext(step, here, plan.context);
          say(`${label} copied ${files} ${step.from ? 'path(s)' : 'files from the build context'} in ${seconds(t)}`);
        } else {
          say(`${label} RUN ${step.command}`);
          // Only the npm cache differs from a cold build: the lockfile's integrity hashes pin the same bytes.
          const npm = {
            HOME: process.env.HOME ?? '/root',
            npm_config_prefer_offline: 'true',
            npm_config_update_notifier: 'false',
          };
          const result = spawnSync('/bin/sh', ['-c', step.command], {
            cwd: here.dir,
            stdio: 'inherit',
            env: { ...baseEnv(), ...npm, ...env },
          });
          if (result.status !== 0)
            throw new Error(`${label} RUN ${step.command} failed (${result.status ?? result.signal})`);
          say(`${label} RUN done in ${seconds(t)}`);
        }
      }
      if (stage === runtime) await start(stage, here, env, dirs, cleanups);
    }
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  say(`container check passed in ${seconds(started)}`);
}

async function start(
  stage: Stage,
  here: StageDir,
  imageEnv: Record<string, string>,
  dirs: Map<string, StageDir>,
  cleanups: (() => Promise<void> | void)[],
): Promise<void> {
  const app = here.dir;
  assertDevDependenciesPruned(app, dirs);

  const adminUrl =
    process.env.CONTAINER_CHECK_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `container_check_${Date.now()}_${process.pid}`;
  psql(adminUrl, `CREATE DATABASE "${database}"`);
  cleanups.push(() => void psql(adminUrl, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
  // USER: there is no `node` user here; what the image promises is "not root", so run as nobody.
  const nonRoot = stage.user !== null && !/^(root|0)(:|$)/.test(stage.user);
  const runsAs =
    nonRoot && process.getuid?.() === 0
      ? { uid: 65534, gid: 65534 }
      : { uid: process.getuid!(), gid: process.getgid!() };
  // The deployment supplies these (docker run -e … -v secrets:/run/secrets): the simulator over TLS from a private CA,
  // every secret a file owned by the uid the gateway runs as (mode 0400), a least-privilege database role.
  const prepared = await prepareDeployment({ ownerUrl: databaseUrl, owner: runsAs, cleanups });
  const deployment = prepared.env;
  say(
    `created database ${database}; upstream: the simulator behind TLS on ${deployment.KLOUDLESS_API_URL}; secrets as files owned by uid ${runsAs.uid}, mode 0400: ${Object.keys(
      deployment,
    )
      .filter((k) => k.endsWith('_FILE') && k !== 'UPSTREAM_CA_FILE')
      .join(', ')}`,
  );
  // A container has its own network namespace, so its ports are always free; on a shared host they are not.
  const ports = { PORT: String(await freePort()), METRICS_PORT: String(await freePort()) };
  const env = { ...baseEnv(), ...imageEnv, ...deployment, ...ports };
  say(
    `runtime ENV ${Object.entries(imageEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}; host ports ${Object.entries(ports)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );

  const asUser = (argv: string[]) =>
    nonRoot && process.getuid?.() === 0
      ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv]
      : argv;
  // Migrations are their own step in production (MIGRATE_ON_START is off): the image's migration command first,
  // as the schema's owner, as a deploy's Job or init step runs it.
  const migrate = spawnSync(process.execPath, ['dist/commands/db-migrate.js'], {
    cwd: app,
    env: { ...baseEnv(), ...imageEnv, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  if (migrate.status !== 0)
    throw new Error(`node dist/commands/db-migrate.js exited ${migrate.status}: ${migrate.stdout}${migrate.stderr}`);
  say(`migration step: ${migrate.stdout.trim()}`);
  grantRuntimeRole(databaseUrl);
  say('runtime role given `npm run db:grants` (no CREATE, no UPDATE or DELETE on the audit log)');
  const cmd = asUser(stage.cmd!);
  say(`CMD ${JSON.stringify(stage.cmd)} as ${nonRoot ? 'an unprivileged user' : 'root'} in ${app}`);
  const startedAt = Date.now();
  const gateway = spawn(cmd[0]!, cmd.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  gateway.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  gateway.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  cleanups.push(async () => {
    if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
    process.stdout.write(
      `--- gateway output ---\n${log
        .split('\n')
        .map((l) => l.slice(0, 400))
        .join('\n')}\n---\n`,
    );
  });

  const check = stage.healthcheck ?? fail('the runtime stage has no HEALTHCHECK');
  const attemptMs = durationMs(check.options.timeout, 30_000);
  const deadline = Date.now() + 60_000;
  let healthy = false;
  while (!healthy && Date.now() < deadline) {
    if (gateway.exitCode !== null || gateway.signalCode !== null)
      throw new Error(`the gateway exited (${gateway.exitCode ?? gateway.signalCode}) before it was healthy`);
    healthy = await healthcheckOnce(asUser(['/bin/sh', '-c', check.command]), app, env, attemptMs);
    if (!healthy) await new Promise((r) => setTimeout(r, 1_000));
  }
  if (!healthy) throw new Error('HEALTHCHECK did not pass within 60 s');
  say(
    `HEALTHCHECK passed ${seconds(startedAt)} after start; /readyz says ${await (await fetch(`http://127.0.0.1:${ports.PORT}/readyz`)).text()}`,
  );
  say(await prepared.forwardRealRequests(`http://127.0.0.1:${ports.PORT}`));
  // A Kloudless outage must not make every container unhealthy (an orchestrator would restart them all).
  await prepared.stopUpstream();
  if (!(await healthcheckOnce(asUser(['/bin/sh', '-c', check.command]), app, env, attemptMs)))
    throw new Error('HEALTHCHECK failed once the upstream was gone: it must check liveness only');
  say('HEALTHCHECK still passes with the upstream gone (liveness only; /readyz is for the load balancer)');

  const shipped = readdirSync(join(app, 'prisma', 'migrations'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const inRepo = readdirSync(join(ROOT, 'prisma', 'migrations'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const recorded = psql(
    databaseUrl,
    'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY 1',
  )
    .split('\n')
    .filter(Boolean);
  if (JSON.stringify(recorded) !== JSON.stringify(shipped) || JSON.stringify(shipped) !== JSON.stringify(inRepo)) {
    throw new Error(
      `migrations: recorded ${JSON.stringify(recorded)}, shipped ${JSON.stringify(shipped)}, in the repo ${JSON.stringify(inRepo)}`,
    );
  }
  say(
    `migrations applied by the migration step: ${recorded.length} recorded in _prisma_migrations, ${shipped.length} shipped`,
  );

  // docker stop: SIGTERM, then SIGKILL after 10 s by default.
  const stopAt = Date.now();
  gateway.kill('SIGTERM');
  const exit = await exited(gateway, 10_000);
  if (!exit) throw new Error('the gateway was still running 10 s after SIGTERM (docker stop would SIGKILL it)');
  if (exit.code !== 0) throw new Error(`after SIGTERM the gateway exited with ${exit.code ?? exit.signal}, not 0`);
  say(`SIGTERM: exited 0 in ${seconds(stopAt)}; the runtime directory (the image's /app) weighs ${diskUsage(app)}`);
}

/**
 * The point of the prune: nothing the lockfile marks dev-only or dev-or-optional ships. (The Prisma CLI
 * and TypeScript are optional peers of @prisma/client, which `--omit=dev` alone keeps.)
 */
function assertDevDependenciesPruned(app: string, dirs: Map<string, StageDir>): void {
  const lockfile =
    [...dirs.values()].map((d) => join(d.dir, 'package-lock.json')).find((f) => existsSync(f)) ??
    fail('no stage has a package-lock.json');
  const { packages } = JSON.parse(readFileSync(lockfile, 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  const devOnly = Object.entries(packages)
    .filter(([path, p]) => path && (p.dev || p.devOptional))
    .map(([path]) => path);
  const shipped = devOnly.filter((path) => existsSync(join(app, path)));
  if (shipped.length > 0)
    throw new Error(
      `dev dependencies in the runtime image: ${shipped.slice(0, 20).join(', ')}${shipped.length > 20 ? ', …' : ''}`,
    );
  const installed = Object.keys(packages).filter((path) => path && existsSync(join(app, path))).length;
  say(`runtime node_modules: ${installed} packages, none of the lockfile's ${devOnly.length} dev ones`);
}

function diskUsage(path: string): string {
  return spawnSync('du', ['-sh', path], { encoding: 'utf8' }).stdout.split('\t')[0] ?? '?';
}

async function main(argv: string[]): Promise<void> {
  const unknown = argv.filter((a) => !['--print-plan', '--tracked-only', '--keep'].includes(a));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(' ')}`);
  const plan = parseDockerfile(
    readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
    buildContext(argv.includes('--tracked-only')),
  );
  if (argv.includes('--print-plan')) process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  else await replay(plan, argv.includes('--keep'));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`container check FAILED: ${err.message}\n`);
    process.exit(1);
  });
}
