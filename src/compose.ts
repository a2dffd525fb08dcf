import type { Logger } from 'pino';
import type { AppDeps } from './app';
import { createAuditKeys, type AuditKeys } from './audit/trail/keys';
import { createAuditRecorder } from './audit/recording/recorder';
import { createMetrics, type Metrics } from './metrics/metrics';
import { createReloader, type ReloadTrigger } from './reload/reloader';
import { scheduleRecovery } from './audit/recording/recovery';
import { createAuditStore, type AuditStore } from './audit/trail/store';
import { createAuditReader } from './audit/review/reader';
import { createVerifyWalks } from './audit/review/chain-walks';
import { createTransparencyLog } from './audit/log/log';
import { parseVkey } from './audit/log/note';
import { logIdentity } from './audit/log/signing-key';
import { createTokenVerifier } from './auth/verifier';
import { ConfigError, type Config } from './config/load';
import { openDatabase, type Database } from './db/client';
import { applyMigrations } from './db/migrate';
import { schemaProblem, schemaStatus } from './db/schema-status';
import { loadPolicy } from './policy/policy';
import { createUpstream } from './upstream/client';
import { upstreamReachable } from './upstream/reachability';
import { createLimiters } from './ratelimit/limiters';
import { createOwnerRecordReader, createOwnershipStore } from './ownership/store';
import { createLiveOwnership, OWNERSHIP_CHANNEL, type LiveOwnership } from './ownership/live';
import { createApplicationDirectory } from './ownership/directory';
import { createApprovalStore } from './approvals/store';
import { createApprovals } from './approvals/service';
import { createNotifier } from './approvals/notify';
import { scheduleApprovalSweeps } from './approvals/sweep';
import { createSessions } from './session/sessions';
import { startAuditWatch } from './audit/watch/start';

export interface Gateway {
  deps: AppDeps;
  database: Database;
  metrics: Metrics;
  /** Application ownership, held in memory while its listener is connected (issue 26). */
  ownership: LiveOwnership;
  /** SIGHUP: re-read the DeveloperKey file and the policy file. */
  reload(trigger: ReloadTrigger): Promise<void>;
  /** Closes the upstream pool and the database. */
  close(): Promise<void>;
}

/**
 * Builds the real dependencies from validated configuration: opens the audit store, applies pending
 * migrations, completes request entries an earlier run left without an outcome. Tests build the same
 * gateway around their own simulator and database.
 */
/** What tests pass in instead of the real thing: the clock approval expiry and execution read. */
export interface Seams {
  clock?: () => Date;
  /** How often the ownership listener's connection is asked to answer, and how long it has (10 s and 3 s). */
  ownershipHeartbeat?: { everyMs: number; timeoutMs: number };
}

export async function composeGateway(config: Config, logger: Logger, seams: Seams = {}): Promise<Gateway> {
  const clock = seams.clock ?? (() => new Date());
  const developerKey = config.upstream.developerKey;
  const { hmacKey, signingKey } = config.audit;
  if (!developerKey || !hmacKey || !signingKey)
    throw new Error(
      'composeGateway needs a DeveloperKey, an AUDIT_HMAC_KEY and an AUDIT_SIGNING_KEY (the local default provides them outside production)',
    );
  // What rotation may replace while the gateway runs; everything reads it through a getter.
  const state = { developerKey, policy: loadPolicy(config.policyFile) };
  for (const warning of state.policy.warnings) logger.warn({ policy: config.policyFile ?? 'built-in' }, warning);
  const policy = () => state.policy;
  const metrics = createMetrics();
  const verifier = createTokenVerifier(config.jwt);

  const database = await openDatabase({
    url: config.database.url,
    dataDir: config.dataDir,
    poolSize: config.database.poolSize,
    connectTimeoutMs: config.audit.writeTimeoutMs,
    lockTimeoutMs: config.audit.writeTimeoutMs,
    read: { poolSize: config.audit.read.poolSize, statementTimeoutMs: config.audit.read.timeoutMs },
  });
  const schemaRefusal = await prepareSchema(database, config.database.migrateOnStart, logger);
  if (schemaRefusal) {
    await database.close();
    throw new ConfigError([schemaRefusal]);
  }
  const keys = createAuditKeys(hmacKey, config.audit.hmacKeys);
  const reader = createAuditReader(database.readPrisma);
  const store = createAuditStore({
    prisma: database.prisma,
    keys,
    writeTimeoutMs: config.audit.writeTimeoutMs,
    queueLimit: config.audit.queueLimit,
  });
  const unknownKey = await headKeyProblem(store, keys);
  if (unknownKey) {
    await database.close();
    throw new ConfigError([unknownKey]);
  }
  const recorder = createAuditRecorder(store, keys, logger, config.audit.writeTimeoutMs, {
    committed: (kind, seconds) => metrics.auditWriteDuration.observe({ kind }, seconds),
    failed: (kind) => metrics.auditWriteFailures.inc({ kind }),
  });
  // The audit trail as a transparency log (issue 15): the tree follows the trail, checkpoints are signed with a key of its own.
  const log = createTransparencyLog({
    prisma: database.prisma,
    store,
    keys,
    identity: logIdentity(signingKey, config.audit.logOrigin),
    logger,
    intervalS: config.audit.checkpointIntervalS,
    // Paired in order; src/config checked there is one valid key per URL.
    witnesses: config.audit.witnessUrls.map((url, i) => ({
      url,
      key: parseVkey(config.audit.witnessKeys[i] as string),
    })),
    writeTimeoutMs: config.audit.writeTimeoutMs,
    async onRefusal(witness, reason, details) {
      const invalid = reason === 'invalid_cosignature';
      logger.error(
        { witness, reason, ...details },
        invalid
          ? 'a witness answered with a cosignature that does not verify with its key (AUDIT_WITNESS_KEYS): not stored'
          : 'a witness refused the audit checkpoint: the log history is not consistent with what it cosigned',
      );
      metrics.auditWitnessRefusals.inc({ witness, reason });
      const action = invalid ? 'audit.witness_cosignature_invalid' : 'audit.witness_refused';
      await recorder.recordSystem(action, { witness, reason, ...details }).catch(() => undefined);
    },
  });
  log.start();
  const reloader = createReloader({
    state,
    developerKeyFile: config.upstream.developerKeyFile,
    policyFile: config.policyFile,
    logger,
    recorder,
    keys,
    metrics,
  });
  const recovery = scheduleRecovery(store, logger, {
    upstreamTimeoutMs: config.upstream.timeoutMs,
    writeTimeoutMs: config.audit.writeTimeoutMs,
  });
  await recovery.first;

  // Loaded only when used: the Redis client is ~20 MB of resident memory a single instance has no need for.
  const redis = config.rateLimit.redisUrl
    ? (await import('./ratelimit/redis')).connectRedis(config.rateLimit.redisUrl, logger)
    : undefined;
  if (redis && !(await redis.ready(3_000)))
    logger.warn('redis not reachable at start-up; rate limits follow RATE_LIMIT_STORE_FAILURE until it is');
  const upstream = createUpstream({
    baseUrl: config.upstream.baseUrl,
    developerKey: () => state.developerKey,
    timeoutMs: config.upstream.timeoutMs,
    connections: config.upstream.connections,
    maxResponseBytes: config.upstream.maxResponseBytes,
    ca: config.upstream.ca,
  });
  const limiters = createLimiters(config, policy, logger, redis);
  // Issue 26: the projection held in memory while its listener is connected; read from the database otherwise.
  const liveOwnership = createLiveOwnership({
    store: createOwnershipStore(database.prisma, config.audit.writeTimeoutMs),
    records: createOwnerRecordReader(database.prisma, config.audit.writeTimeoutMs),
    listen: (handlers) => database.listen(OWNERSHIP_CHANNEL, handlers),
    logger,
    heartbeatMs: seams.ownershipHeartbeat?.everyMs,
    heartbeatTimeoutMs: seams.ownershipHeartbeat?.timeoutMs,
    onLive: (live) => metrics.ownershipLive.set(live ? 1 : 0),
  });
  store.onCommitted((entries) => liveOwnership.committed(entries));
  // A request entry that found its owner changed (OwnerMoved): memory reads that owner afresh.
  store.onOwnerMoved((applicationId) => liveOwnership.forget(applicationId));
  const ownership = {
    store: liveOwnership,
    directory: createApplicationDirectory({ upstream, maxAgeMs: config.ownershipListMaxAgeMs }),
  };
  const approvalStore = createApprovalStore(database.prisma, config.audit.writeTimeoutMs);
  const notifier = createNotifier({ url: config.approvals.notifyUrl, logger });
  const approvals = createApprovals({
    store: approvalStore,
    recorder,
    keys,
    // An approved request executes through the same forward-and-audit path, and budget, as a direct one.
    perform: {
      recorder,
      upstream,
      budget: limiters.upstream,
      onApplicationsChanged: () => ownership.directory.invalidate(),
    },
    ownership: ownership.store,
    policy,
    notifier,
    logger,
    defaultTtlS: config.approvals.ttlS,
    clock,
  });
  // An execution claimed longer ago than any execution can take (its request entry, the upstream call, its outcome
  // entry and its final state, each bounded) was cut short by a crash: never run again.
  const sweeps = scheduleApprovalSweeps(approvals, logger, {
    staleAfterMs: config.upstream.timeoutMs + 4 * config.audit.writeTimeoutMs + 1_000,
  });
  await sweeps.first;
  const walks = createVerifyWalks(reader, keys);
  // Issue 25: the trail streamed to AUDIT_SINKS and verified in full in the background.
  const watch = startAuditWatch({
    settings: config.audit,
    database,
    reader,
    recorder,
    walks,
    logger,
    registry: metrics.registry,
  });
  const deps: AppDeps = {
    config,
    logger,
    verifier,
    policy,
    upstream,
    metrics,
    audit: {
      store,
      keys,
      recorder,
      reader,
      walks,
      fullVerification: watch.fullVerification,
      readsPerCaller: config.audit.read.perCaller,
      log,
    },
    limiters,
    approvals: { service: approvals, store: approvalStore },
    sessions: createSessions(config, database.prisma, keys, clock),
    clock,
    ownership,
    readiness: [
      upstreamReachable(config.upstream.baseUrl),
      { name: 'audit_store', critical: false, check: () => store.ping() },
      ...(redis ? [{ name: 'rate_limit_store', critical: false, check: () => redis.ping() }] : []),
    ],
    lifecycle: { draining: false },
  };
  return {
    deps,
    database,
    metrics,
    ownership: liveOwnership,
    reload: (trigger) => reloader.reload(trigger),
    async close() {
      recovery.stop();
      sweeps.stop();
      await watch.stop();
      await log.stop();
      await notifier.idle();
      await liveOwnership.close();
      reloader.stop();
      await upstream.close();
      await redis?.close();
      await database.close();
    },
  };
}

/**
 * MIGRATE_ON_START applies pending migrations (the embedded database always); otherwise the schema must already be
 * current, as `npm run db:migrate` left it: a least-privilege runtime role cannot create tables, and a build newer
 * than its schema would fail on its first query instead of at start-up. Returns why start-up stops, if it does.
 */
async function prepareSchema(database: Database, migrateOnStart: boolean, logger: Logger): Promise<string | undefined> {
  if (migrateOnStart || database.kind === 'embedded') {
    const applied = await applyMigrations(database);
    if (applied.length > 0)
      logger.info({ migrations: applied, database: database.kind }, 'database migrations applied');
    return undefined;
  }
  return schemaProblem(await schemaStatus(database));
}

/**
 * The keyring must hold the key that hashed the newest entry: a rotation that dropped the old key would otherwise
 * leave everything before it unverifiable, and nobody would notice until a review (issue 13, defect 7).
 */
async function headKeyProblem(store: AuditStore, keys: AuditKeys): Promise<string | undefined> {
  const head = await store.latest();
  if (!head || keys.withId(head.keyId)) return undefined;
  const known = keys.keyIds.slice(1);
  return (
    `the newest audit entry (sequence ${head.seq}) was hashed with key id ${head.keyId}, which is neither AUDIT_HMAC_KEY ` +
    `(key id ${keys.keyId}) nor in AUDIT_HMAC_KEYS (${known.length > 0 ? `key ids ${known.join(', ')}` : 'empty'}). ` +
    'Put the key that wrote it in AUDIT_HMAC_KEYS (or AUDIT_HMAC_KEYS_FILE); without it the trail cannot be verified.'
  );
}
