import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startHarness, type Harness } from '../helpers/harness';
import { parseDockerfile, type Stage } from '../../scripts/dockerfile';

/**
 * Docker cannot run on our build machines, so CI replays the Dockerfile with scripts/container-check.sh
 * (`npm run container:check`, minutes long, run by .ci/run and not here). These tests keep the replay and
 * the Dockerfile running the same commands, and the image itself lean, unprivileged and production-only.
 */
const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

const stages = parseDockerfile(dockerfile, []).stages;
const build = stages[0]!;
const runtime = stages[stages.length - 1]!;
const runs = (stage: Stage) => stage.steps.flatMap((s) => (s.kind === 'run' ? [s.command] : []));
const copies = (stage: Stage) => stage.steps.flatMap((s) => (s.kind === 'copy' ? [s] : []));
const env = (stage: Stage) =>
  Object.assign({}, ...stage.steps.flatMap((s) => (s.kind === 'env' ? [s.vars] : []))) as Record<string, string>;

let plan: { dockerfile: string; stages: Stage[]; context: string[] };
beforeAll(() => {
  plan = JSON.parse(
    execFileSync('bash', [join(ROOT, 'scripts', 'container-check.sh'), '--print-plan'], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  );
});

describe('the replay and the Dockerfile run the same commands', () => {
  test("when the replay prints its plan, then it is the one reader's plan of the Dockerfile, stage by stage", () => {
    expect(plan.dockerfile).toBe('Dockerfile');
    expect(plan.stages).toEqual(stages);
  });

  test('when the Dockerfile has a RUN line, then the plan runs that very command, in order (nothing skipped or rewritten)', () => {
    const runLines = dockerfile
      .split('\n')
      .filter((l) => /^RUN\s/.test(l))
      .map((l) => l.replace(/^RUN\s+/, '').trim());
    expect(stages.flatMap(runs)).toEqual(runLines);
    expect(runLines.length).toBeGreaterThan(3);
  });

  test('when the build stage copies from the context, then the context holds what the build needs (.dockerignore leaves it in)', () => {
    const migrations = readdirSync(join(ROOT, 'prisma', 'migrations'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `prisma/migrations/${d.name}/migration.sql`);
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src/index.ts',
      'prisma/schema.prisma',
      'src/app-ui/static/index.html',
      ...migrations,
    ];
    expect(needed.filter((f) => !plan.context.includes(f))).toEqual([]);
  });

  test('when the context is listed, then no dependency folder, build output, local data, secret or git metadata is in it', () => {
    const leaked = plan.context.filter((f) =>
      /(^|\/)(node_modules|\.git|\.data)\/|^(dist|coverage|test-output)\/|(^|\/)\.env(\.|$)|\.log$/.test(f),
    );
    expect(leaked).toEqual([]);
  });

  test('when CI runs, then it replays the Dockerfile after the tests', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['container:check']).toBe('bash scripts/container-check.sh');
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ci.indexOf('npm run container:check')).toBeGreaterThan(ci.indexOf('npm test'));
    expect(ci.indexOf('npm test')).toBeGreaterThan(-1);
  });
});

describe('Dockerfile hygiene', () => {
  test('when the image is built, then it is multi-stage on a slim Node 20 base, and the runtime stage runs nothing of its own', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(/^node:20(\.\d+)*-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    expect(runs(runtime)).toEqual([]);
  });

  test('when dependencies are installed, then from the lockfile with npm ci, never npm install, and dev dependencies are pruned before the runtime copies them', () => {
    expect(copies(build)[0]).toEqual({
      kind: 'copy',
      from: null,
      sources: ['package.json', 'package-lock.json'],
      dest: './',
    });
    const all = stages.flatMap(runs);
    expect(all.filter((c) => /\bnpm (install|i|add)\b/.test(c))).toEqual([]);
    const ci = runs(build).findIndex((c) => /^npm ci\b/.test(c));
    const buildCmd = runs(build).indexOf('npm run build');
    const prune = runs(build).findIndex((c) => /^npm prune\b.*--omit=dev\b/.test(c));
    expect(ci).toBeGreaterThan(-1);
    expect(buildCmd).toBeGreaterThan(ci);
    // The Prisma client is not in the context: it is generated from the copied schema before the build compiles it.
    const generate = runs(build).indexOf('npm run db:generate');
    expect(generate).toBeGreaterThan(ci);
    expect(buildCmd).toBeGreaterThan(generate);
    expect(prune).toBeGreaterThan(buildCmd);
  });

  test('when the runtime stage is assembled, then it takes only built artefacts from the build stage: dependencies, dist, migrations, package.json', () => {
    expect(copies(runtime).filter((c) => c.from !== build.name)).toEqual([]);
    const dests = copies(runtime).map((c) => c.dest.replace(/^\.\//, ''));
    expect(dests.sort()).toEqual(['dist', 'node_modules', 'package.json', 'prisma/migrations']);
  });

  test('when the container runs, then as a non-root user, with NODE_ENV=production, the API and metrics listening on all interfaces on the exposed ports', () => {
    expect(runtime.user).toBeTruthy();
    expect(runtime.user).not.toMatch(/^(root|0)(:|$)/);
    expect(
      dockerfile
        .trimEnd()
        .split('\n')
        .filter((l) => /^USER\s/i.test(l))
        .pop(),
    ).toBe(`USER ${runtime.user}`);
    expect(env(runtime)).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', METRICS_HOST: '0.0.0.0' });
    expect(runtime.expose).toEqual([env(runtime).PORT, env(runtime).METRICS_PORT]);
  });

  test('when the container starts, then node itself runs the compiled gateway (exec form, so SIGTERM reaches it; migrations apply at start-up)', () => {
    // The gateway's own start command, with its V8 flags, is `npm start`'s (issue 26).
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
      .scripts.start;
    expect(runtime.cmd).toEqual(start.split(' '));
    expect(runtime.cmd).toContain('--max-semi-space-size=4');
    // src/db/migrate.ts reads dist/db/../../prisma/migrations.
    expect(
      copies(runtime)
        .filter((c) => c.dest.replace(/^\.\//, '') === 'prisma/migrations')
        .map((c) => c.sources),
    ).toEqual([[`${build.workdir}/prisma/migrations`]]);
  });

  test('when Docker probes health, then node asks /healthz (liveness, not /readyz) on the configured port (slim has no curl)', () => {
    expect(runtime.healthcheck).not.toBeNull();
    expect(runtime.healthcheck!.command).toMatch(/^node -e /);
    expect(runtime.healthcheck!.command).toContain('/healthz');
    expect(runtime.healthcheck!.command).not.toContain('/readyz');
    expect(runtime.healthcheck!.command).toContain('process.env.PORT');
    expect(Object.keys(runtime.healthcheck!.options)).toEqual(
      expect.arrayContaining(['interval', 'timeout', 'start-period', 'retries']),
    );
  });

  test('when the build context is sent, then .dockerignore keeps out node_modules, .git, .env and .data', () => {
    const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) =>
        l
          .trim()
          .replace(/^\*\*\//, '')
          .replace(/\/$/, ''),
      );
    expect(patterns).toEqual(expect.arrayContaining(['node_modules', '.git', '.env', '.data', 'dist']));
  });
});

describe('the container health check is liveness, not readiness', () => {
  // The upstream is a closed port: /readyz is 503, as in a Kloudless outage.
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { KLOUDLESS_API_URL: 'http://127.0.0.1:1/v1' } });
  });
  afterAll(async () => h.close());

  /** Runs the HEALTHCHECK command as Docker does (shell form, the container's PORT), and resolves to its exit code. */
  const probe = (port: string) =>
    new Promise<number | null>((resolve) => {
      // Asynchronously: the gateway answering it runs in this process.
      const child = execFile(
        '/bin/sh',
        ['-c', runtime.healthcheck!.command],
        { env: { ...process.env, PORT: port }, timeout: 10_000 },
        () => resolve(child.exitCode),
      );
    });

  test('when the upstream is down, then /readyz is 503 but the HEALTHCHECK passes, so an orchestrator does not restart every container', async () => {
    expect((await h.api().get('/readyz')).status).toBe(503);
    expect(await probe(new URL(h.gatewayUrl).port)).toBe(0);
  });

  test('when nothing answers on the port, then the HEALTHCHECK fails', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await probe(String(port))).toBe(1);
  });
});
