/**
 * `npm run bench`: what the gateway costs, measured against the floor, in one run on this machine.
 *
 * Starts everything on loopback, each in a process of its own: the simulator (the upstream), a bare proxy (the
 * floor: bench/bare-proxy.ts), the gateway as built for production with a fresh Postgres database and, for one
 * scenario, Redis-backed rate limits. autocannon drives them from this process. Writes docs/benchmarks.md,
 * docs/benchmarks.json and docs/images/latency.svg.
 *
 *   npm run bench                  (about 10 minutes)
 *   npm run bench -- --quick       (skips the 1,000,000-event audit review and the 50,000-application team list)
 *   npm run bench -- --short       (development: 5 s runs, 20 s soak, the core targets only; writes no document)
 *   npm run bench -- --profile     (CPU-profiles the gateway process and lists where its time went)
 *   npm run bench -- --render      (re-writes the documents from docs/benchmarks.json, measuring nothing)
 *
 * BENCH_DATABASE_URL (default TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres) names a
 * server the run may create and drop a database on; BENCH_REDIS_URL (default TEST_REDIS_URL, else
 * redis://127.0.0.1:6379) a Redis it may write keys under a prefix of its own to.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import type { ReviewFigures } from './audit-review';
import type { OwnershipListFigures } from './ownership-list';
import { checkAuditEntries, type AuditCheck } from './lib/audit-check';
import { measureJwt } from './lib/jwt-cost';
import { runLoad, warmUp, type BenchRequest, type LoadOptions, type LoadResult } from './lib/load';
import { describeMachine } from './lib/machine';
import {
  mutations,
  runAuditHostile,
  runAuditLog,
  runAuditReview,
  runOwnershipList,
  type Target,
} from './lib/scenarios';
import type { HostileFigures } from './audit-hostile';
import {
  ratioLines,
  targetsTable,
  writeReport,
  carryLongSections,
  type BenchResults,
  type Measured,
  type MemoryFigures,
} from './lib/report';
import {
  buildGateway,
  cpuMsOf,
  createDatabase,
  dropRedisKeys,
  freePort,
  ROOT,
  spawnService,
  spawnSimulator,
} from './lib/services';
import { hotSpots } from './profile';

const SERVER_DB =
  process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
/** Development: short runs and only the scenarios the issue-16 targets are judged on; prints, writes no document. */
const SHORT = process.argv.includes('--short');
const QUICK = SHORT || process.argv.includes('--quick');
const PROFILE = process.argv.includes('--profile');

const SATURATION_S = SHORT ? 5 : 15;
const PACED_S = SHORT ? 8 : 20;
const SOAK_S = SHORT ? 20 : 60;
const RATE = 200;
const CONNECTIONS = 10;
const REVIEW_ROWS = 2_000_000;

const DEVELOPER_KEY = `dk-bench-${randomBytes(12).toString('hex')}`;
const JWT_SECRET = randomBytes(32).toString('hex');
// One key for every gateway of the run: the Redis-limited one opens the same trail, and refuses a key it cannot verify.
const AUDIT_HMAC_KEY = randomBytes(32).toString('hex');
const ISSUER = 'https://idp.bench.invalid/';
const AUDIENCE = 'kloudless-gateway';
/** One of the simulator's seeded applications (bench/lib/scenarios.ts changes it), and the team it is given to. */
const BENCH_APP = 'wSPk9y5D7p5o87k0ACGKxR';
const BENCH_TEAM = 'bench';

const started = performance.now();
const progress = (message: string) =>
  process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
const fmt = (ms: number) => ms.toFixed(2);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
  const cleanup: (() => Promise<unknown>)[] = [async () => rmSync(work, { recursive: true, force: true })];
  const interrupted = () => {
    progress('interrupted: stopping the processes and dropping the database');
    void (async () => {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    progress(`machine, Postgres (${new URL(SERVER_DB).host}) and Redis (${new URL(REDIS_URL).host})`);
    const machine = await describeMachine(SERVER_DB, REDIS_URL);
    progress('building the gateway (tsc, as npm run build)');
    const build = buildGateway();
    const db = await createDatabase(SERVER_DB);
    cleanup.push(() => db.drop());

    const sim = await spawnSimulator(DEVELOPER_KEY, join(work, 'simulator.log'));
    cleanup.push(() => sim.stop());
    const bare = await spawnService({
      name: 'bare proxy',
      nodeArgs: ['--import', 'tsx', join(ROOT, 'bench/bare-proxy.ts')],
      env: { BARE_UPSTREAM_URL: sim.url, BARE_DEVELOPER_KEY: DEVELOPER_KEY, BARE_CONNECTIONS: '32' },
      port: await freePort(),
      readyPath: '/v1/applications',
      logFile: join(work, 'bare.log'),
    });
    cleanup.push(() => bare.stop());
    const floor = await spawnService({
      name: 'Express floor',
      nodeArgs: ['--import', 'tsx', join(ROOT, 'bench/express-floor.ts')],
      env: { FLOOR_UPSTREAM_URL: sim.url, FLOOR_DEVELOPER_KEY: DEVELOPER_KEY, FLOOR_CONNECTIONS: '32' },
      port: await freePort(),
      readyPath: '/v1/applications',
      logFile: join(work, 'floor.log'),
    });
    cleanup.push(() => floor.stop());

    const profileDir = join(work, 'profile');
    const gatewayLog = join(work, 'gateway.log');
    const startGateway = async (
      name: string,
      extra: Record<string, string>,
      logFile: string,
      nodeArgs: string[] = [],
    ) =>
      spawnService({
        name,
        nodeArgs: [...nodeArgs, ...build.args],
        env: {
          NODE_ENV: 'development', // production refuses the simulator's http:// URL; every setting that matters is set here
          HOST: '127.0.0.1',
          METRICS_PORT: '0',
          KLOUDLESS_API_URL: `${sim.url}/v1`,
          KLOUDLESS_DEVELOPER_KEY: DEVELOPER_KEY,
          JWT_SECRET,
          JWT_ISSUER: ISSUER,
          JWT_AUDIENCE: AUDIENCE,
          DATABASE_URL: db.url,
          AUDIT_HMAC_KEY,
          // Generous budgets: the load comes from one person; the limiters still count every request.
          RATE_LIMIT_READS: '1000000',
          RATE_LIMIT_WRITES: '1000000',
          // RATE_LIMIT_UNAUTHENTICATED stays at its default: every run ends with requests in flight, and a valid
          // request whose client hangs up must not count as a failed authentication (it once did).
          DATA_DIR: join(work, 'data'),
          LOG_LEVEL: 'info',
          ...extra,
        },
        port: await freePort(),
        readyPath: '/readyz',
        logFile,
      });
    progress(`starting the gateway (${build.how}); its stdout (one line per request) goes to a file`);
    const gw = await startGateway(
      'gateway',
      {},
      gatewayLog,
      PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    );
    cleanup.push(() => gw.stop());

    const token = (sub: string, roles: string[], teams?: string[]) =>
      jwt.sign({ sub, roles, ...(teams ? { teams } : {}) }, JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: 3600,
        issuer: ISSUER,
        audience: AUDIENCE,
      });
    const bearer = { authorization: `Bearer ${token('bench-load', ['admin'])}` };
    // Issue 26: the built-in viewer and editor are team-scoped, the common case. The application the load reads and
    // changes is given to their team through the gateway (an audited ownership change), as an operator would.
    const assigned = await fetch(`${gw.url}/v1/ownership/applications/${BENCH_APP}`, {
      method: 'PUT',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ team: BENCH_TEAM, allow_new_team: true }),
    });
    if (assigned.status !== 200) throw new Error(`ownership assign: ${assigned.status} ${await assigned.text()}`);
    const viewerBearer = { authorization: `Bearer ${token('bench-viewer', ['viewer'], [BENCH_TEAM])}` };
    const editorBearer = { authorization: `Bearer ${token('bench-editor', ['editor'], [BENCH_TEAM])}` };
    const direct: Target = { url: sim.url, headers: { authorization: `DeveloperKey ${DEVELOPER_KEY}` }, service: sim };
    const viaBare: Target = { url: bare.url, headers: bearer, service: bare };
    const viaFloor: Target = { url: floor.url, headers: bearer, service: floor };
    const viaGateway: Target = { url: gw.url, headers: bearer, service: gw };
    const viaGatewayAsViewer: Target = { url: gw.url, headers: viewerBearer, service: gw };
    const viaGatewayAsEditor: Target = { url: gw.url, headers: editorBearer, service: gw };

    const rss: { at: number; mb: number }[] = [];
    const sampler = setInterval(
      () => rss.push({ at: (performance.now() - started) / 1000, mb: gw.rss() / 2 ** 20 }),
      1000,
    );
    cleanup.push(async () => clearInterval(sampler));
    await sleep(3000);
    const idleMb = gw.rss() / 2 ** 20;
    progress(`gateway idle RSS ${idleMb.toFixed(0)} MB`);

    const measure = async (
      label: string,
      target: Target,
      requests: BenchRequest[],
      shape: { rate?: number; durationS: number },
      warmRequests = requests,
    ): Promise<Measured> => {
      const options: LoadOptions = {
        label,
        url: target.url,
        headers: target.headers,
        requests,
        connections: CONNECTIONS,
        ...shape,
      };
      await warmUp({ ...options, requests: warmRequests }, 2);
      const cpuBefore = cpuMsOf(target.service.pid);
      const result: LoadResult = await runLoad(options);
      const cpuMsPerRequest = (cpuMsOf(target.service.pid) - cpuBefore) / Math.max(1, result.ok + result.failed);
      progress(
        `  ${label.padEnd(34)} ${result.rps.toFixed(0).padStart(6)} rps  p50 ${fmt(result.latency.p50)}  p90 ${fmt(result.latency.p90)}  p99 ${fmt(result.latency.p99)}  max ${fmt(result.latency.max)} ms` +
          `  ${result.failed} failed  ${cpuMsPerRequest.toFixed(3)} ms CPU/req`,
      );
      return { ...result, cpuMsPerRequest };
    };
    const read: BenchRequest[] = [{ method: 'GET', path: '/v1/applications' }];

    progress(`reads at saturation (${CONNECTIONS} connections, ${SATURATION_S} s each)`);
    const readsSaturated = {
      direct: await measure('reads, direct to the simulator', direct, read, { durationS: SATURATION_S }),
      bare: await measure('reads, bare proxy', viaBare, read, { durationS: SATURATION_S }),
      floor: await measure('reads, Express floor', viaFloor, read, { durationS: SATURATION_S }),
      gateway: await measure('reads, gateway', viaGateway, read, { durationS: SATURATION_S }),
    };

    const readOne: BenchRequest[] = [{ method: 'GET', path: `/v1/applications/${BENCH_APP}` }];
    progress(`a team-scoped viewer reading its team's application, at saturation (${SATURATION_S} s each)`);
    const teamReadsSaturated = {
      floor: await measure('one application, Express floor', viaFloor, readOne, { durationS: SATURATION_S }),
      admin: await measure('one application, gateway, admin', viaGateway, readOne, { durationS: SATURATION_S }),
      gateway: await measure('one application, gateway, team viewer', viaGatewayAsViewer, readOne, {
        durationS: SATURATION_S,
      }),
    };

    progress(`reads at a fixed ${RATE} rps (${PACED_S} s each)`);
    const readsPaced = {
      direct: await measure(`reads @${RATE} rps, direct`, direct, read, { rate: RATE, durationS: PACED_S }),
      bare: await measure(`reads @${RATE} rps, bare proxy`, viaBare, read, { rate: RATE, durationS: PACED_S }),
      floor: await measure(`reads @${RATE} rps, Express floor`, viaFloor, read, { rate: RATE, durationS: PACED_S }),
      gateway: await measure(`reads @${RATE} rps, gateway`, viaGateway, read, { rate: RATE, durationS: PACED_S }),
    };
    const teamReadsPaced = {
      floor: await measure(`one application @${RATE} rps, Express floor`, viaFloor, readOne, {
        rate: RATE,
        durationS: PACED_S,
      }),
      gateway: await measure(`one application @${RATE} rps, team viewer`, viaGatewayAsViewer, readOne, {
        rate: RATE,
        durationS: PACED_S,
      }),
    };

    progress('audited mutations: create + delete a webhook, alternating, real Postgres');
    const audits: Record<string, AuditCheck> = {};
    const mutationRun = async (scenario: string, target: Target, shape: { rate?: number; durationS: number }) => {
      const sent = new Set<string>();
      const who = target === direct ? 'direct' : target === viaGatewayAsEditor ? 'gateway, team editor' : 'gateway';
      const result = await measure(
        `mutations${shape.rate ? ` @${shape.rate} rps` : ''}, ${who}`,
        target,
        mutations(target, `bench-${scenario}-`, sent),
        shape,
        mutations(target, `bench-warm-${scenario}-`, new Set()),
      );
      if (target !== direct) {
        await sleep(1500); // requests in flight when the run stopped still finish, and are audited
        audits[scenario] = await checkAuditEntries(db.url, `bench-${scenario}-`, sent, gatewayLog);
        const a = audits[scenario];
        progress(
          `  audit trail: ${a.sent} sent (${a.notReceived ?? 0} never reached the gateway), ${a.requestEntries} request + ${a.responseEntries} response entries, ${a.incomplete} incomplete, ${a.unexpected} unexpected, refused ${JSON.stringify(a.refused ?? {})}: ${a.ok ? 'exact' : 'MISMATCH'}`,
        );
      }
      return result;
    };
    const mutationsSaturated = {
      direct: await mutationRun('mut-sat-direct', direct, { durationS: SATURATION_S }),
      gateway: await mutationRun('mut-sat', viaGateway, { durationS: SATURATION_S }),
      team: await mutationRun('mut-sat-team', viaGatewayAsEditor, { durationS: SATURATION_S }),
    };
    const mutationsPaced = {
      direct: await mutationRun('mut-paced-direct', direct, { rate: RATE, durationS: PACED_S }),
      gateway: await mutationRun('mut-paced', viaGateway, { rate: RATE, durationS: PACED_S }),
    };

    progress(`memory: ${SOAK_S} s of sustained load on the gateway (6 reads : 1 create : 1 delete), RSS every second`);
    const soakFrom = rss.length;
    const soakSent = new Set<string>();
    const soakRequests = [
      ...Array.from({ length: 6 }, () => read[0]!),
      ...mutations(viaGateway, 'bench-soak-', soakSent),
    ];
    const soakOptions: LoadOptions = {
      label: 'soak',
      url: gw.url,
      headers: bearer,
      requests: soakRequests,
      connections: CONNECTIONS,
      durationS: SOAK_S,
    };
    const soakCpu = cpuMsOf(gw.pid);
    const soak = await runLoad(soakOptions);
    const soakCpuMs = (cpuMsOf(gw.pid) - soakCpu) / Math.max(1, soak.ok + soak.failed);
    const soakSamples = rss.slice(soakFrom).map((s) => s.mb);
    progress(
      `  soak: ${soak.rps.toFixed(0)} rps, p99 ${fmt(soak.latency.p99)} ms, ${soak.failed} failed; RSS ${Math.min(...soakSamples).toFixed(0)}–${Math.max(...soakSamples).toFixed(0)} MB`,
    );
    await sleep(1500);
    audits.soak = await checkAuditEntries(db.url, 'bench-soak-', soakSent, gatewayLog);
    await sleep(8500);
    const afterMb = gw.rss() / 2 ** 20;
    progress(`  RSS 10 s after the soak: ${afterMb.toFixed(0)} MB`);
    const memory: MemoryFigures = {
      idleMb,
      soakSamplesMb: soakSamples,
      afterMb,
      soak: { ...soak, cpuMsPerRequest: soakCpuMs },
    };

    progress('reads at saturation with Redis-backed rate limits (per person, failed-auth and upstream budget)');
    const prefix = `kgw-bench-${randomBytes(4).toString('hex')}:`;
    const gwRedis = await startGateway(
      'gateway (redis limits)',
      { REDIS_URL, REDIS_PREFIX: prefix, UPSTREAM_RATE_LIMIT: '100000' },
      join(work, 'gateway-redis.log'),
    );
    const readsRedis = await measure(
      'reads, gateway with Redis limits',
      { url: gwRedis.url, headers: bearer, service: gwRedis },
      read,
      { durationS: SATURATION_S },
    );
    await gwRedis.stop();
    await dropRedisKeys(REDIS_URL, prefix);

    progress('audit chain: GET /v1/audit/verify');
    const verifyStarted = performance.now();
    const verifyRes = await fetch(`${gw.url}/v1/audit/verify`, {
      headers: { authorization: `Bearer ${token('bench-auditor', ['auditor'])}` },
    });
    const verification = {
      status: verifyRes.status,
      seconds: (performance.now() - verifyStarted) / 1000,
      ...((await verifyRes.json()) as { ok: boolean; entries: number }),
    };
    progress(
      `  ${verification.ok ? 'ok' : 'BROKEN'}: ${verification.entries} entries verified in ${verification.seconds.toFixed(1)} s`,
    );

    clearInterval(sampler);
    await gw.stop();
    await bare.stop();
    await floor.stop();
    await sim.stop();
    const logLines = readFileSync(gatewayLog, 'utf8').split('\n').filter(Boolean);
    const gatewayLogFigures = {
      lines: logLines.length,
      errorLines: logLines.filter((l) => /"level":(50|60)/.test(l)).length,
      bytes: logLines.reduce((a, l) => a + l.length + 1, 0),
    };

    progress('JWT verification, in this process');
    const jwtCost = await measureJwt(1);
    for (const j of jwtCost)
      progress(
        `  ${j.algorithm}: gateway verifier ${j.gatewayPerS.toFixed(0)}/s (from its cache ${j.cachedPerS?.toFixed(0)}/s); jsonwebtoken with a string key ${j.stringKeyPerS.toFixed(0)}/s`,
      );

    let review: ReviewFigures | undefined;
    if (QUICK) progress('audit review on 1,000,000 events: skipped (--quick)');
    else {
      progress(
        `audit review: ${REVIEW_ROWS} entries (${REVIEW_ROWS / 2} events) seeded into a fresh database, a filtered page and two full exports`,
      );
      review = runAuditReview(REVIEW_ROWS, SERVER_DB);
      progress(
        `  page p50 ${fmt(review.page.p50Ms)} ms, p95 ${fmt(review.page.p95Ms)} ms; export ${review.exports.map((e) => `${e.eventsPerS.toFixed(0)} events/s, RSS peak ${e.peakRssMb} MB`).join('; ')}`,
      );
    }

    let log: BenchResults['log'];
    if (QUICK) progress('audit log on 2,000,000 entries: skipped (--quick)');
    else {
      progress(
        `audit log: append cost with the tree off and on, then ${REVIEW_ROWS} entries back-filled, proofs and incremental verify`,
      );
      log = runAuditLog(REVIEW_ROWS, SERVER_DB);
      progress(
        `  inclusion p99 ${fmt(log.inclusion.p99Ms)} ms, consistency p99 ${fmt(log.consistency.p99Ms)} ms; verify after 1,000 entries ${log.verify.ms.map((m) => m.toFixed(0)).join('/')} ms`,
      );
    }

    let ownershipList: OwnershipListFigures | undefined;
    if (SHORT) progress("a team's application list: skipped (--short)");
    else {
      progress(
        `a team's application list (issue 12): 5,000 applications / 50 teams${QUICK ? '' : ' and 50,000 / 500'}, ownership imported, warm, cold and paced`,
      );
      ownershipList = runOwnershipList(SERVER_DB, QUICK ? ['5000:50'] : []);
      for (const s of ownershipList.scales) {
        progress(
          `  ${s.applications} / ${s.teams}: warm p95 ${fmt(s.warm.p95Ms)} ms, cold p95 ${fmt(s.cold.p95Ms)} ms (${s.cold.upstreamRequestsPerCall} upstream requests a call), default max age p95 ${fmt(s.paced.p95Ms)} ms`,
        );
      }
    }
    let hostile: HostileFigures | undefined;
    if (QUICK) progress('audit trail under hostile bodies: skipped (--quick)');
    else {
      progress(
        'audit trail under hostile bodies: a burst of maximal refused bodies against /healthz, then verify of a poisoned trail',
      );
      hostile = runAuditHostile(SERVER_DB);
      progress(
        `  /healthz p99 ${fmt(hostile.healthz.duringBurst.p99Ms)} ms during the burst; largest entry ${hostile.stored.maxEntryBytes} bytes; verify ${hostile.verify.seconds.toFixed(1)} s, RSS peak ${hostile.verify.peakRssMb} MB`,
      );
    }

    let profile: BenchResults['profile'];
    if (PROFILE) {
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        const keep = join(ROOT, 'bench', 'profiles');
        mkdirSync(keep, { recursive: true });
        const kept = join(keep, `gateway-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
        writeFileSync(kept, readFileSync(join(profileDir, file)));
        const spots = hotSpots(kept, 25);
        profile = { file: kept, ...spots };
        progress(`CPU profile kept at ${kept}; top self time:`);
        for (const s of spots.spots.slice(0, 15))
          progress(`  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.fn}  ${s.where}`);
      }
    }

    const results: BenchResults = {
      date: new Date().toISOString(),
      runtimeS: (performance.now() - started) / 1000,
      quick: QUICK,
      short: SHORT,
      machine,
      setup: {
        build: build.how,
        connections: CONNECTIONS,
        saturationS: SATURATION_S,
        pacedS: PACED_S,
        rate: RATE,
        soakS: SOAK_S,
        gatewayLog: gatewayLogFigures,
      },
      readsSaturated,
      readsPaced,
      teamReadsSaturated,
      teamReadsPaced,
      readsRedis,
      mutationsSaturated,
      mutationsPaced,
      audits,
      verification,
      memory,
      jwt: jwtCost,
      review,
      log,
      ownershipList,
      hostile,
      profile,
    };
    if (SHORT) {
      const kept = join(tmpdir(), `gateway-bench-short-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      writeFileSync(kept, `${JSON.stringify(results, null, 2)}\n`);
      process.stdout.write(
        `\n${targetsTable(results)}\n\n${ratioLines(results)}\n\nfigures kept at ${kept} (--short writes no document)\n`,
      );
      return;
    }
    const previousFile = join(ROOT, 'docs/benchmarks.json');
    const previous = existsSync(previousFile)
      ? (JSON.parse(readFileSync(previousFile, 'utf8')) as BenchResults)
      : undefined;
    writeReport(carryLongSections(results, previous));
    process.stdout.write(`\n${targetsTable(results)}\n\n${ratioLines(results)}\n\n`);
    progress(
      `done in ${((performance.now() - started) / 60000).toFixed(1)} min: docs/benchmarks.md, docs/benchmarks.json, docs/images/latency.svg`,
    );
  } finally {
    for (const step of cleanup.reverse())
      await step().catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const run = process.argv.includes('--render')
  ? async () => writeReport(JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as BenchResults)
  : main;
run().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
