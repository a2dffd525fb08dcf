import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { COSIGNATURE_V1, parseVkey } from '../audit/log/note';
import { parseSigningKey } from '../audit/log/signing-key';
import { parseSinks, type SinkSpec } from '../audit/stream/sinks';
import { SETTINGS, type Setting, type SettingName } from './settings';
import { parseWorkers, workersProblems } from './workers';

type Parsed = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };

export interface Config {
  env: 'production' | 'development' | 'test';
  host: string;
  port: number;
  /** WORKERS resolved (`auto`: the cores available); 1 is one process, no cluster. */
  workers: number;
  /** WORKERS as written, for messages. */
  workersSetting: string;
  upstream: {
    baseUrl: string;
    developerKey?: string;
    /** Where the key was read from, so it can be re-read when rotated. */
    developerKeyFile?: string;
    /** UPSTREAM_CA_FILE's certificates (PEM), trusted besides Node's own. */
    ca?: string;
    timeoutMs: number;
    connections: number;
    maxResponseBytes: number;
  };
  jwt: {
    secret?: string;
    /** JWT_SECRETS_PREVIOUS: secrets still accepted during a rotation (never used alone). */
    previousSecrets: string[];
    publicKey?: string;
    /** JWT_PUBLIC_KEYS_PREVIOUS: PEM public keys still accepted during a rotation, one block after another. */
    previousPublicKeys?: string;
    jwksUrl?: string;
    jwksCacheTtlS: number;
    algorithms: string[];
    issuers: string[];
    audiences: string[];
    clockToleranceS: number;
    maxLifetimeS?: number;
    rolesClaim: string;
    teamsClaim: string;
  };
  /** Browser sign-in (OIDC_*); absent when OIDC_ISSUER is unset. */
  oidc?: { issuer: string; clientId: string; clientSecret?: string; redirectUri: string; scopes: string[] };
  session: { secret?: string; previousSecrets: string[]; ttlS: number; idleS: number };
  policyFile?: string;
  corsOrigins: string[];
  bodyLimitBytes: number;
  /** OWNERSHIP_LIST_MAX_AGE_MS. */
  ownershipListMaxAgeMs: number;
  approvals: { ttlS: number; notifyUrl?: string };
  trustProxy: boolean | number | string[];
  logLevel: string;
  dataDir: string;
  /** migrateOnStart: apply pending migrations at start-up (else only check the schema is current). */
  database: { url?: string; poolSize: number; migrateOnStart: boolean };
  /** `hmacKeys`: earlier keys (AUDIT_HMAC_KEYS), still used to verify and look up what they recorded. */
  audit: {
    hmacKey?: string;
    hmacKeys: string[];
    writeTimeoutMs: number;
    queueLimit: number;
    /** The transparency log (issue 15): signing key PEM, origin, checkpoint interval, witnesses. */
    signingKey?: string;
    logOrigin?: string;
    checkpointIntervalS: number;
    witnessUrls: string[];
    /** AUDIT_WITNESS_KEYS: the verifier key of each witness URL, same order (validated here, parsed in compose). */
    witnessKeys: string[];
    /** The read pool (issue 18): its size, statement timeout and reads in flight per caller. */
    read: { poolSize: number; timeoutMs: number; perCaller: number };
    /** Streaming (issue 25): the sinks of AUDIT_SINKS, parsed, and the largest batch. */
    sinks: SinkSpec[];
    sinkBatchSize: number;
    /** AUDIT_FULL_VERIFY_INTERVAL_S. */
    fullVerifyIntervalS: number;
  };
  rateLimit: {
    windowS: number;
    reads: number;
    writes: number;
    unauthenticated: number;
    /** RATE_LIMIT_SIGN_IN_FAILURES_RECORDED. */
    signInFailuresRecorded: number;
    /** OIDC_TOKEN_CALLS_PER_MINUTE. */
    tokenEndpointPerMinute: number;
    upstreamPerSecond: number;
    onStoreFailure: 'open-reads' | 'open' | 'closed';
    redisUrl?: string;
    redisPrefix: string;
  };
  metrics: { host: string; port: number };
  /** SIGTERM: readiness fails for this long before the listener closes. */
  drainPeriodMs: number;
  shutdownTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads, validates and freezes the configuration once; every problem is reported together. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const raw = readRawSettings(env, problems);
  const parsed = z.object(schemaShape()).safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const config = toConfig(parsed.data as Parsed, problems);
  config.upstream.developerKeyFile = env.KLOUDLESS_DEVELOPER_KEY_FILE || undefined;
  problems.push(
    ...consistencyProblems(config),
    ...workersProblems(config),
    ...productionProblems(config),
    ...(config.env === 'production' ? examplesKept(raw) : []),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/**
 * Settings still holding the stand-in value `.env.example` shows for them (issue 28: a copy of it started with the
 * example witness and log origin active, silently). Secrets are named, never shown.
 */
function examplesKept(raw: Record<string, string | undefined>): string[] {
  const kept: string[] = [];
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting][]) {
    const value = raw[name];
    if (!setting.placeholder || value === undefined) continue;
    const items = value.split(',').map((v) => v.trim());
    if (value.trim() === setting.example || items.includes(setting.example))
      kept.push(
        `${name} still holds the example value from .env.example${setting.secret ? '' : ` (${setting.example})`}: set this deployment's own, or unset it`,
      );
  }
  return kept;
}

function schemaShape(): Record<string, z.ZodType> {
  return Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, (s as Setting).schema]));
}

/** Empty values count as unset; secrets may come from `<NAME>_FILE`. */
function readRawSettings(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string | undefined> {
  const raw: Record<string, string | undefined> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting][]) {
    const direct = env[name] === '' ? undefined : env[name];
    const file = setting.secret ? env[`${name}_FILE`] || undefined : undefined;
    if (direct !== undefined && file !== undefined) {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    raw[name] = file !== undefined ? readSecretFile(name, file, problems) : direct;
  }
  return raw;
}

function readCaFile(path: string, problems: string[]): string | undefined {
  try {
    const pem = readFileSync(path, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      problems.push(`UPSTREAM_CA_FILE: ${path} holds no PEM certificate`);
    return pem;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    problems.push(`UPSTREAM_CA_FILE: cannot read ${path} (${code})${code === 'EACCES' ? unreadableHint() : ''}`);
    return undefined;
  }
}

/** Secret files owned by root with mode 0600 are the usual mistake: the image runs as uid 1000 (user `node`). */
function unreadableHint(): string {
  const uid = process.getuid?.();
  return (
    `: this process runs as uid ${uid ?? 'unknown'} and must be able to read it (the image's user \`node\` is uid 1000, ` +
    'group 1000): make the file owned by that uid, or readable by its group (e.g. Kubernetes `fsGroup: 1000`)'
  );
}

export function readSecretFile(name: string, path: string, problems: string[]): string | undefined {
  try {
    const value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    if (value === '') problems.push(`${name}_FILE: ${path} is empty`);
    return value || undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    problems.push(`${name}_FILE: cannot read ${path} (${code})${code === 'EACCES' ? unreadableHint() : ''}`);
    return undefined;
  }
}

function toConfig(p: Parsed, problems: string[]): Config {
  return {
    env: p.NODE_ENV,
    host: p.HOST,
    port: p.PORT,
    workers: parseWorkers(p.WORKERS, problems),
    workersSetting: p.WORKERS,
    upstream: {
      baseUrl: p.KLOUDLESS_API_URL.replace(/\/+$/, ''),
      ...(p.UPSTREAM_CA_FILE ? { ca: readCaFile(p.UPSTREAM_CA_FILE, problems) } : {}),
      developerKey: p.KLOUDLESS_DEVELOPER_KEY,
      timeoutMs: p.UPSTREAM_TIMEOUT_MS,
      connections: p.UPSTREAM_CONNECTIONS,
      maxResponseBytes: p.UPSTREAM_MAX_RESPONSE_BYTES,
    },
    jwt: {
      secret: p.JWT_SECRET,
      previousSecrets: p.JWT_SECRETS_PREVIOUS,
      publicKey: p.JWT_PUBLIC_KEY,
      previousPublicKeys: p.JWT_PUBLIC_KEYS_PREVIOUS,
      jwksUrl: p.JWT_JWKS_URL,
      jwksCacheTtlS: p.JWT_JWKS_CACHE_TTL_S,
      algorithms: p.JWT_ALGORITHMS,
      issuers: p.JWT_ISSUER,
      audiences: p.JWT_AUDIENCE,
      clockToleranceS: p.JWT_CLOCK_TOLERANCE_S,
      maxLifetimeS: p.JWT_MAX_LIFETIME_S,
      rolesClaim: p.JWT_ROLES_CLAIM,
      teamsClaim: p.JWT_TEAMS_CLAIM,
    },
    ...oidcConfig(p),
    session: {
      secret: p.SESSION_SECRET,
      previousSecrets: p.SESSION_SECRETS_PREVIOUS,
      ttlS: p.SESSION_TTL_S,
      idleS: p.SESSION_IDLE_S,
    },
    policyFile: p.POLICY_FILE,
    corsOrigins: p.CORS_ORIGINS,
    bodyLimitBytes: parseBytes(p.BODY_LIMIT),
    ownershipListMaxAgeMs: p.OWNERSHIP_LIST_MAX_AGE_MS,
    approvals: { ttlS: p.APPROVAL_TTL_S, ...(p.APPROVAL_NOTIFY_URL ? { notifyUrl: p.APPROVAL_NOTIFY_URL } : {}) },
    trustProxy: parseTrustProxy(p.TRUST_PROXY, problems),
    logLevel: p.LOG_LEVEL,
    dataDir: p.DATA_DIR,
    database: {
      url: p.DATABASE_URL,
      poolSize: p.DATABASE_POOL_SIZE,
      migrateOnStart: p.MIGRATE_ON_START ? p.MIGRATE_ON_START === 'true' : p.NODE_ENV !== 'production',
    },
    audit: {
      hmacKey: p.AUDIT_HMAC_KEY,
      hmacKeys: p.AUDIT_HMAC_KEYS,
      writeTimeoutMs: p.AUDIT_WRITE_TIMEOUT_MS,
      queueLimit: p.AUDIT_QUEUE_LIMIT,
      read: {
        poolSize: p.AUDIT_READ_POOL_SIZE,
        timeoutMs: p.AUDIT_READ_TIMEOUT_MS,
        perCaller: p.AUDIT_READS_PER_CALLER,
      },
      signingKey: p.AUDIT_SIGNING_KEY,
      logOrigin: p.AUDIT_LOG_ORIGIN,
      checkpointIntervalS: p.AUDIT_CHECKPOINT_INTERVAL_S,
      witnessUrls: p.AUDIT_WITNESS_URLS,
      witnessKeys: p.AUDIT_WITNESS_KEYS,
      sinks: sinksOf(p.AUDIT_SINKS, problems),
      sinkBatchSize: p.AUDIT_SINK_BATCH_SIZE,
      fullVerifyIntervalS: p.AUDIT_FULL_VERIFY_INTERVAL_S,
    },
    rateLimit: {
      windowS: p.RATE_LIMIT_WINDOW_S,
      reads: p.RATE_LIMIT_READS,
      writes: p.RATE_LIMIT_WRITES,
      unauthenticated: p.RATE_LIMIT_UNAUTHENTICATED,
      tokenEndpointPerMinute: p.OIDC_TOKEN_CALLS_PER_MINUTE,
      signInFailuresRecorded: p.RATE_LIMIT_SIGN_IN_FAILURES_RECORDED,
      upstreamPerSecond: p.UPSTREAM_RATE_LIMIT,
      onStoreFailure: p.RATE_LIMIT_STORE_FAILURE,
      redisUrl: p.REDIS_URL,
      redisPrefix: p.REDIS_PREFIX,
    },
    metrics: { host: p.METRICS_HOST, port: p.METRICS_PORT },
    drainPeriodMs: p.DRAIN_PERIOD_MS,
    shutdownTimeoutMs: p.SHUTDOWN_TIMEOUT_MS,
    headersTimeoutMs: p.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: p.REQUEST_TIMEOUT_MS,
  };
}

function oidcConfig(p: Parsed): Pick<Config, 'oidc'> {
  if (!p.OIDC_ISSUER) return {};
  const { OIDC_CLIENT_ID: clientId, OIDC_REDIRECT_URI: redirectUri } = p;
  return {
    oidc: {
      issuer: p.OIDC_ISSUER,
      clientId: clientId ?? '',
      clientSecret: p.OIDC_CLIENT_SECRET,
      redirectUri: redirectUri ?? '',
      scopes: p.OIDC_SCOPES.split(' '),
    },
  };
}

function parseBytes(text: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(text);
  const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[(match?.[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb'];
  return Number(match?.[1] ?? 0) * unit;
}

function sinksOf(urls: string[], problems: string[]): SinkSpec[] {
  const parsed = parseSinks(urls);
  problems.push(...parsed.problems);
  return parsed.sinks;
}

function parseTrustProxy(text: string, problems: string[]): Config['trustProxy'] {
  if (text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const named = new Set(['loopback', 'linklocal', 'uniquelocal']);
  const bad = entries.filter((e) => !named.has(e) && !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e));
  if (bad.length > 0 || entries.length === 0)
    problems.push(`TRUST_PROXY: not false, a hop count or addresses: ${bad.join(', ')}`);
  return entries;
}

function consistencyProblems(c: Config): string[] {
  const problems: string[] = [];
  const keySources = [c.jwt.secret, c.jwt.publicKey, c.jwt.jwksUrl].filter(Boolean).length;
  if (keySources > 1) problems.push('set only one of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL');
  if (c.jwt.previousSecrets.length > 0 && !c.jwt.secret)
    problems.push('JWT_SECRETS_PREVIOUS is kept beside a current JWT_SECRET: set JWT_SECRET too');
  if (c.jwt.previousPublicKeys && !c.jwt.publicKey)
    problems.push('JWT_PUBLIC_KEYS_PREVIOUS is kept beside a current JWT_PUBLIC_KEY: set JWT_PUBLIC_KEY too');
  problems.push(...oidcProblems(c));
  const signingKey = c.audit.signingKey === undefined ? undefined : parseSigningKey(c.audit.signingKey);
  if (typeof signingKey === 'string') problems.push(`AUDIT_SIGNING_KEY ${signingKey}`);
  problems.push(...witnessKeyProblems(c.audit.witnessUrls, c.audit.witnessKeys));
  if (c.metrics.port !== 0 && c.metrics.port === c.port)
    problems.push('METRICS_PORT must differ from PORT: metrics are never served with the API');
  return problems;
}

/**
 * Every witness has its key, in every environment: a cosignature the gateway cannot check is never stored. There is
 * no witness of the gateway's own whose key it could know, so the keys are always given.
 */
function witnessKeyProblems(urls: string[], keys: string[]): string[] {
  const problems: string[] = [];
  keys.forEach((text, i) => {
    try {
      const key = parseVkey(text);
      if (key.type !== COSIGNATURE_V1) {
        problems.push(
          `AUDIT_WITNESS_KEYS entry ${i + 1} (${key.name}) is an Ed25519 note key (type 0x01), ` +
            "not a witness's cosignature/v1 key (type 0x04): use the key the witness prints",
        );
      }
    } catch (err) {
      const why = (err as Error).message;
      problems.push(`AUDIT_WITNESS_KEYS entry ${i + 1} is not a verifier key name+hash+base64: ${why}`);
    }
  });
  if (keys.length !== urls.length) {
    problems.push(
      'AUDIT_WITNESS_KEYS must give the verifier key of each witness in AUDIT_WITNESS_URLS, in the same order: ' +
        `${urls.length} URL(s), ${keys.length} key(s)`,
    );
  }
  return problems;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Browser sign-in is on when OIDC_ISSUER is set; then the client must be complete (issue 17). */
function oidcProblems(c: Config): string[] {
  if (!c.oidc) return [];
  const problems: string[] = [];
  if (!c.oidc.clientId) problems.push('OIDC_CLIENT_ID is required when OIDC_ISSUER is set');
  if (!c.oidc.redirectUri) problems.push('OIDC_REDIRECT_URI is required when OIDC_ISSUER is set');
  else if (new URL(c.oidc.redirectUri).pathname !== '/auth/callback')
    problems.push('OIDC_REDIRECT_URI must end in /auth/callback, where the gateway completes sign-in');
  // The one exception to a Secure cookie: a browser on this machine talking to the local default over http.
  else if (
    new URL(c.oidc.redirectUri).protocol === 'http:' &&
    !LOOPBACK_HOSTS.has(new URL(c.oidc.redirectUri).hostname)
  )
    problems.push('OIDC_REDIRECT_URI may be http only on 127.0.0.1, [::1] or localhost');
  const issuer = new URL(c.oidc.issuer);
  if (issuer.protocol === 'http:' && !LOOPBACK_HOSTS.has(issuer.hostname))
    problems.push('OIDC_ISSUER may be http only on 127.0.0.1, [::1] or localhost');
  if (!c.oidc.scopes.includes('openid')) problems.push('OIDC_SCOPES must include openid');
  if (c.session.idleS > c.session.ttlS) problems.push('SESSION_IDLE_S cannot exceed SESSION_TTL_S');
  if (c.env === 'production') {
    if (!c.oidc.clientSecret)
      problems.push('OIDC_CLIENT_SECRET (or _FILE) is required in production when OIDC_ISSUER is set');
    if (!c.oidc.issuer.startsWith('https://')) problems.push('OIDC_ISSUER must be https in production');
    if (c.oidc.redirectUri && !c.oidc.redirectUri.startsWith('https://'))
      problems.push('OIDC_REDIRECT_URI must be https in production (the session cookie is Secure)');
    if (!c.session.secret) problems.push('SESSION_SECRET (or _FILE) is required in production when OIDC_ISSUER is set');
    else if (Buffer.byteLength(c.session.secret) < 32)
      problems.push('SESSION_SECRET must be at least 32 bytes in production');
  }
  return problems;
}

/** In production a missing or weak setting stops start-up: the local default must never be reached by accident. */
function productionProblems(c: Config): string[] {
  if (c.env !== 'production') return [];
  const problems: string[] = [];
  if (!c.upstream.developerKey) problems.push('KLOUDLESS_DEVELOPER_KEY (or _FILE) is required in production');
  if (!c.upstream.baseUrl.startsWith('https://')) problems.push('KLOUDLESS_API_URL must be https in production');
  const keySources = [c.jwt.secret, c.jwt.publicKey, c.jwt.jwksUrl].filter(Boolean).length;
  if (keySources === 0) problems.push('one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL is required in production');
  if (c.jwt.secret && Buffer.byteLength(c.jwt.secret) < 32)
    problems.push('JWT_SECRET must be at least 32 bytes in production');
  if (c.jwt.previousSecrets.some((s) => Buffer.byteLength(s) < 32))
    problems.push('each of JWT_SECRETS_PREVIOUS must be at least 32 bytes in production');
  if (c.jwt.jwksUrl && !c.jwt.jwksUrl.startsWith('https://')) problems.push('JWT_JWKS_URL must be https in production');
  if (c.jwt.issuers.length === 0) problems.push('JWT_ISSUER is required in production');
  if (c.jwt.audiences.length === 0) problems.push('JWT_AUDIENCE is required in production');
  if (!c.database.url)
    problems.push('DATABASE_URL is required in production (the embedded database is for local use only)');
  if (!c.audit.hmacKey) problems.push('AUDIT_HMAC_KEY (or _FILE) is required in production');
  else if (Buffer.byteLength(c.audit.hmacKey) < 32)
    problems.push('AUDIT_HMAC_KEY must be at least 32 bytes in production');
  if (!c.audit.signingKey)
    problems.push(
      'AUDIT_SIGNING_KEY (or _FILE) is required in production: the Ed25519 key that signs audit checkpoints',
    );
  if (c.audit.hmacKeys.some((k) => Buffer.byteLength(k) < 32))
    problems.push('every key in AUDIT_HMAC_KEYS must be at least 32 bytes in production');
  if (c.trustProxy === true)
    problems.push('TRUST_PROXY=true trusts any client-sent X-Forwarded-For; name the proxies or a hop count');
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
