import { z } from 'zod';

/**
 * Every environment setting the gateway reads, with the line of documentation docs/configuration.md and
 * .env.example show for it. `secret` settings may also be given as `<NAME>_FILE` (Docker/Kubernetes secrets).
 */
export interface Setting {
  doc: string;
  example: string;
  schema: z.ZodType;
  secret?: boolean;
  /** The example is a stand-in (example.com, change-me…): production refuses a value still equal to it. */
  placeholder?: boolean;
}

const optionalString = z.string().min(1).optional();
const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const list = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

export const SETTINGS = {
  NODE_ENV: {
    doc: '`production` turns on the strict start-up checks; anything else allows the local default.',
    example: 'production',
    schema: z.enum(['production', 'development', 'test']).default('development'),
  },
  HOST: { doc: 'Address to listen on.', example: '0.0.0.0', schema: z.string().min(1).default('127.0.0.1') },
  PORT: { doc: 'Port to listen on.', example: '8080', schema: int(0, 65535, 8080) },
  WORKERS: {
    doc: 'Processes serving the port (node:cluster), one per core: a whole number from 1 to 64, or `auto` for the cores available. Above 1 it needs REDIS_URL, DATABASE_URL and a DeveloperKey.',
    example: '1',
    schema: z.string().min(1).default('1'),
  },
  KLOUDLESS_API_URL: {
    doc: 'Base URL of the Management API, including `/v1`; https in production (UPSTREAM_CA_FILE for a private CA).',
    example: 'https://api.kloudless.com/v1',
    schema: z.url({ protocol: /^https?$/ }).default('https://api.kloudless.com/v1'),
  },
  KLOUDLESS_DEVELOPER_KEY: {
    doc: 'The DeveloperKey the gateway injects upstream. Unset outside production: the local default starts the simulator.',
    example: 'change-me',
    placeholder: true,
    schema: optionalString,
    secret: true,
  },
  UPSTREAM_CA_FILE: {
    doc: 'PEM file of CA certificates to trust for the Management API, besides the public ones: a private CA, or a TLS-inspecting egress proxy. (`NODE_EXTRA_CA_CERTS` works too, for every connection the process makes.)',
    example: '/etc/gateway/upstream-ca.pem',
    schema: optionalString,
  },
  UPSTREAM_TIMEOUT_MS: {
    doc: 'Deadline for one upstream request, in ms.',
    example: '10000',
    schema: int(100, 120000, 10000),
  },
  UPSTREAM_CONNECTIONS: {
    doc: 'Keep-alive connections in the upstream pool.',
    example: '32',
    schema: int(1, 1024, 32),
  },
  UPSTREAM_MAX_RESPONSE_BYTES: {
    doc: 'Largest upstream response body passed on; larger ones answer 502 `upstream_bad_response`.',
    example: '10485760',
    schema: int(1024, 1024 ** 3, 10 * 1024 * 1024),
  },
  JWT_SECRET: {
    doc: 'HS256 shared secret (at least 32 bytes in production).',
    example: 'a-long-random-string-of-at-least-32-bytes',
    placeholder: true,
    schema: optionalString,
    secret: true,
  },
  JWT_SECRETS_PREVIOUS: {
    doc: 'Earlier JWT_SECRETs (comma list), still accepted during a rotation: tokens signed with either verify until the identity provider has switched and the old tokens have expired. Remove them then.',
    example: 'the-previous-jwt-secret-of-at-least-32-bytes',
    placeholder: true,
    schema: list,
    secret: true,
  },
  JWT_PUBLIC_KEY: {
    doc: 'PEM public key (RSA, EC or Ed25519) for RS256, ES256/384/512 (by curve) or EdDSA tokens.',
    example: '',
    schema: optionalString,
    secret: true,
  },
  JWT_PUBLIC_KEYS_PREVIOUS: {
    doc: 'Earlier JWT_PUBLIC_KEYs (PEM blocks one after another), still accepted during a rotation; each must fit JWT_ALGORITHMS. Remove them once tokens signed with them have expired.',
    example: '',
    schema: optionalString,
    secret: true,
  },
  JWT_JWKS_URL: {
    doc: 'JWKS endpoint of the identity provider; the whole key set is cached, and refetched on an unknown `kid` at most once per 10 s.',
    example: 'https://idp.example.com/.well-known/jwks.json',
    placeholder: true,
    schema: z.url({ protocol: /^https?$/ }).optional(),
  },
  JWT_JWKS_CACHE_TTL_S: {
    doc: 'How long fetched JWKS keys are cached, in seconds.',
    example: '600',
    schema: int(10, 86400, 600),
  },
  JWT_ALGORITHMS: {
    doc: 'Allowed token algorithms (comma list). Default: HS256 for a secret, RS256, ES256/384/512 or EdDSA to match the public key, RS256,ES256,EdDSA for JWKS.',
    example: 'RS256',
    schema: list,
  },
  JWT_ISSUER: {
    doc: 'Required `iss` (comma list for several). Required in production.',
    example: 'https://idp.example.com/',
    placeholder: true,
    schema: list,
  },
  JWT_AUDIENCE: {
    doc: 'Required `aud` (comma list for several). Required in production.',
    example: 'kloudless-gateway',
    schema: list,
  },
  JWT_CLOCK_TOLERANCE_S: {
    doc: 'Clock skew allowed on `exp`/`nbf`/`iat`, in seconds (at most 60).',
    example: '30',
    schema: int(0, 60, 30),
  },
  JWT_MAX_LIFETIME_S: {
    doc: 'If set, tokens must carry `iat` and live at most this long (`exp - iat`).',
    example: '3600',
    schema: z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 86400)
      .optional(),
  },
  JWT_ROLES_CLAIM: {
    doc: 'Claim holding the roles: a string or an array; dotted paths such as `realm_access.roles`.',
    example: 'roles',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/)
      .default('roles'),
  },
  APPROVAL_TTL_S: {
    doc: "Default lifetime of a pending approval request (two-person rule), in seconds; a policy rule's `ttl_s` overrides it.",
    example: '3600',
    schema: int(60, 30 * 86_400, 3600),
  },
  APPROVAL_NOTIFY_URL: {
    doc: 'Where the gateway POSTs a small JSON message (Slack-compatible `text` plus structured fields, no secrets) when an approval request is created and when it ends. Unset: no notifications.',
    example: 'https://hooks.slack.com/services/…',
    placeholder: true,
    schema: z.url({ protocol: /^https?$/ }).optional(),
  },
  OWNERSHIP_LIST_MAX_AGE_MS: {
    doc: 'How old the list of upstream applications that `team`-scoped application lists are cut from may be, in ms: an application created, renamed or deleted outside this gateway instance shows within this plus one walk of the upstream list. 0: walk on every list.',
    example: '5000',
    schema: int(0, 300_000, 5000),
  },
  JWT_TEAMS_CLAIM: {
    doc: "Claim holding the caller's teams (what `team`-scoped roles may reach): a string or an array of strings; dotted paths such as `groups.teams`. A malformed claim refuses the token.",
    example: 'teams',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/)
      .default('teams'),
  },
  // Browser sign-in (issue 17): the gateway as a Backend-for-Frontend, an OpenID Connect confidential client.
  OIDC_ISSUER: {
    doc: "Issuer URL of the company's OpenID Connect provider; set to turn on browser sign-in (`/auth/login`). Unset outside production with the local default: a development IdP on its own loopback port.",
    example: 'https://idp.example.com/',
    placeholder: true,
    schema: z.url({ protocol: /^https?$/ }).optional(),
  },
  OIDC_CLIENT_ID: {
    doc: "The gateway's client id at the identity provider.",
    example: 'kloudless-gateway',
    schema: optionalString,
  },
  OIDC_CLIENT_SECRET: {
    doc: "The gateway's client secret (a confidential client: it never reaches the browser).",
    example: 'change-me',
    placeholder: true,
    schema: optionalString,
    secret: true,
  },
  OIDC_REDIRECT_URI: {
    doc: "This gateway's `/auth/callback` URL as registered at the identity provider (https in production).",
    example: 'https://gateway.example.com/auth/callback',
    placeholder: true,
    schema: z.url({ protocol: /^https?$/ }).optional(),
  },
  OIDC_SCOPES: {
    doc: 'Scopes asked for at sign-in (space-separated; must include `openid`).',
    example: 'openid profile email',
    schema: z
      .string()
      .regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/)
      .default('openid profile email'),
  },
  SESSION_SECRET: {
    doc: 'Keys the browser-session ids kept in the database and seals the sign-in cookie (at least 32 bytes in production; generated into DATA_DIR otherwise).',
    example: 'a-third-long-random-string-of-at-least-32-bytes',
    placeholder: true,
    schema: optionalString,
    secret: true,
  },
  SESSION_SECRETS_PREVIOUS: {
    doc: 'Earlier SESSION_SECRETs (comma list), kept during a rotation: a session signed in under one of them is found and moved to the current secret on its next request, so nobody is signed out. Remove them after SESSION_TTL_S.',
    example: 'the-previous-session-secret-of-at-least-32-bytes',
    placeholder: true,
    schema: list,
    secret: true,
  },
  SESSION_TTL_S: {
    doc: 'Absolute lifetime of a browser session, in seconds: past it, sign in again however active.',
    example: '28800',
    schema: int(300, 7 * 86_400, 28_800),
  },
  SESSION_IDLE_S: {
    doc: 'A browser session unused this long, in seconds, ends.',
    example: '1800',
    schema: int(60, 86_400, 1800),
  },
  POLICY_FILE: {
    doc: 'Role → operation policy (JSON or YAML). Unset: the built-in default policy.',
    example: './policy.yaml',
    schema: optionalString,
  },
  CORS_ORIGINS: {
    doc: 'Browser origins allowed to call the gateway (comma list). Empty: no CORS.',
    example: 'https://console.example.com',
    placeholder: true,
    schema: list,
  },
  BODY_LIMIT: {
    doc: 'Largest request body accepted (bytes, or with kb/mb).',
    example: '100kb',
    schema: z
      .string()
      .regex(/^\d+(b|kb|mb)?$/i)
      .default('100kb'),
  },
  TRUST_PROXY: {
    doc: 'Which proxies may set X-Forwarded-For: `false`, a hop count, or a comma list of addresses/CIDRs (`loopback` allowed).',
    example: 'false',
    schema: z.string().default('false'),
  },
  LOG_LEVEL: {
    doc: 'pino log level.',
    example: 'info',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  },
  DATA_DIR: {
    doc: 'Where the embedded database and the secrets generated outside production are kept.',
    example: './.data',
    schema: z.string().min(1).default('./.data'),
  },
  DATABASE_URL: {
    doc: 'Postgres URL of the audit store. Unset outside production: an embedded Postgres (PGlite) in DATA_DIR.',
    example: 'postgres://gateway@db.internal:5432/gateway',
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    secret: true,
  },
  MIGRATE_ON_START: {
    doc: 'Whether start-up applies pending migrations to DATABASE_URL (`true` or `false`). Default `false` in production, where `npm run db:migrate` runs them as its own step under a role that owns the schema and the gateway only checks the schema is current (exit 78 naming what is missing); `true` elsewhere. The embedded database is always migrated.',
    example: 'false',
    schema: z.enum(['true', 'false']).optional(),
  },
  DATABASE_POOL_SIZE: {
    doc: 'Connections in the audit store pool (audit writes, ownership); audit reads have their own.',
    example: '10',
    schema: int(1, 200, 10),
  },
  AUDIT_READ_POOL_SIZE: {
    doc: 'Connections for reading the audit trail (queries, exports, verification, key lookups), apart from the write pool: reads can never take the connections mutations need.',
    example: '3',
    schema: int(1, 50, 3),
  },
  AUDIT_READ_TIMEOUT_MS: {
    doc: 'Longest one audit read statement may run (Postgres `statement_timeout` of the read pool); past it the read is refused with 503 `audit_read_unavailable`.',
    example: '10000',
    schema: int(100, 600_000, 10_000),
  },
  AUDIT_READS_PER_CALLER: {
    doc: 'Audit reads one caller (JWT `sub`) may have in progress at once; more are refused with 429 `rate_limited` and `Retry-After`.',
    example: '2',
    schema: int(1, 100, 2),
  },
  AUDIT_HMAC_KEY: {
    doc: 'Keys the audit chain, the fingerprints of secrets and checkpoint signatures (at least 32 bytes in production; generated into DATA_DIR otherwise).',
    example: 'another-long-random-string-of-at-least-32-bytes',
    placeholder: true,
    schema: optionalString,
    secret: true,
  },
  AUDIT_SIGNING_KEY: {
    doc: "PEM (PKCS#8) Ed25519 private key that signs the audit log's checkpoints (C2SP signed notes); separate from AUDIT_HMAC_KEY. Required in production; generated into DATA_DIR otherwise.",
    example: '-----BEGIN PRIVATE KEY-----…',
    placeholder: true,
    schema: optionalString,
    secret: true,
  },
  AUDIT_LOG_ORIGIN: {
    doc: "Origin line of the audit log's checkpoints and name of its signing key (no spaces or `+`). Default: `kloudless-gateway.audit/` and 16 hex digits of the public key's SHA-256.",
    example: 'gateway.example.com/audit',
    placeholder: true,
    schema: z
      .string()
      .regex(/^[^\s+]{1,200}$/, 'must be a key name: no spaces or "+"')
      .optional(),
  },
  AUDIT_CHECKPOINT_INTERVAL_S: {
    doc: "How often the audit log's Merkle tree takes in new entries and, when it grew, a checkpoint is signed and sent to the witnesses, in seconds.",
    example: '10',
    schema: int(1, 3600, 10),
  },
  AUDIT_WITNESS_URLS: {
    doc: 'Witnesses (c2sp.org/tlog-witness submission prefixes, comma list) each new checkpoint is sent to for a cosignature. Empty: none.',
    example: 'https://witness.example.com/',
    placeholder: true,
    schema: list.pipe(z.array(z.url({ protocol: /^https?$/ }))),
  },
  AUDIT_WITNESS_KEYS: {
    doc: "The cosignature/v1 verifier key (`name+hash+base64`, as `npm run witness` prints it) of each witness in AUDIT_WITNESS_URLS, comma list in the same order. Required when AUDIT_WITNESS_URLS is set: a cosignature is stored only if it verifies with its witness's key.",
    example: 'witness.example.com+571fce53+BJDNcIvJGlTbQqW/DsHFysU/w9Y9U6cJz/DiQLIkvuV3',
    placeholder: true,
    schema: list,
  },
  AUDIT_HMAC_KEYS: {
    doc: 'Earlier values of AUDIT_HMAC_KEY, kept after a rotation: entries, secret fingerprints and checkpoints they made still verify and are still found. Separated by newlines or commas (from `_FILE`, one per line). Only AUDIT_HMAC_KEY keys what is new. The gateway refuses to start if neither holds the key of the newest entry.',
    example: 'the-previous-audit-hmac-key-of-at-least-32-bytes',
    schema: z
      .string()
      .optional()
      .transform((s) =>
        (s ?? '')
          .split(/[\n,]/)
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    secret: true,
  },
  AUDIT_WRITE_TIMEOUT_MS: {
    doc: "Longest wait for an audit entry to commit; past it a mutation is refused (503 `audit_unavailable`) and not forwarded. Also the database sessions' `lock_timeout`.",
    example: '2000',
    schema: int(100, 60000, 2000),
  },
  AUDIT_QUEUE_LIMIT: {
    doc: 'Most audit entries waiting for a group commit. Past it a mutation is refused at once (503 `audit_unavailable`, reason `audit_queue_full`) instead of adding to the backlog of a slow database.',
    example: '1024',
    schema: int(1, 1_000_000, 1024),
  },
  AUDIT_SINKS: {
    doc: 'Where the audit trail is streamed (issue 25), comma list of URLs: `https://…` (and `http://` to loopback only) POSTs NDJSON batches (`?envelope=splunk-hec` for Splunk HEC; a password in the URL is sent as the token), `syslog+tls://host:port` and `syslog+tcp://host:port` send RFC 5424 over RFC 5425 framing, `file:///path` appends NDJSON rotated by size (`?max_bytes=`, `?keep=`). Each may add `?format=ocsf` (default `native`). Empty: none.',
    example: 'https://siem.example.com/ingest?format=ocsf,syslog+tls://logs.example.com:6514',
    schema: list,
    secret: true,
  },
  AUDIT_SINK_BATCH_SIZE: {
    doc: "Most audit entries one batch to a sink holds; a batch is acknowledged (and the sink's cursor moved) as a whole.",
    example: '500',
    schema: int(1, 10_000, 500),
  },
  AUDIT_FULL_VERIFY_INTERVAL_S: {
    doc: 'How often one instance re-walks the whole audit chain in the background, in seconds (at least 5). The result is a metric, a `system` entry and `last_full_verification` in `GET /v1/audit/verify`.',
    example: '86400',
    schema: int(5, 30 * 86_400, 86_400),
  },
  // OpenTelemetry (issue 25): read by @opentelemetry/sdk-node itself (src/tracing/start.ts); declared here so a bad value
  // stops start-up and the settings stay documented in one place.
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    doc: 'OTLP/HTTP collector base URL (`/v1/traces` is added); set it (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, the full URL) to turn tracing on. Unset: no tracing, no SDK loaded.',
    example: 'http://otel-collector:4318',
    schema: z.url({ protocol: /^https?$/ }).optional(),
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    doc: 'The full URL traces are POSTed to, instead of `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.',
    example: 'http://otel-collector:4318/v1/traces',
    schema: z.url({ protocol: /^https?$/ }).optional(),
  },
  OTEL_EXPORTER_OTLP_PROTOCOL: {
    doc: 'OTLP encoding: `http/protobuf` or `http/json`.',
    example: 'http/protobuf',
    schema: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  },
  OTEL_SERVICE_NAME: {
    doc: "The traces' `service.name`.",
    example: 'kloudless-gateway',
    schema: z.string().min(1).default('kloudless-gateway'),
  },
  OTEL_TRACES_SAMPLER: {
    doc: "Which requests are traced: `parentbased_always_on` (default: all, or as the caller's `traceparent` says), `parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG`, `always_on`, `always_off`, `traceidratio`, `parentbased_always_off`.",
    example: 'parentbased_traceidratio',
    schema: z
      .enum([
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ])
      .default('parentbased_always_on'),
  },
  OTEL_TRACES_SAMPLER_ARG: {
    doc: 'The ratio of the `*traceidratio` samplers, from 0 to 1 (e.g. `0.1`: one trace in ten).',
    example: '0.1',
    schema: z.coerce.number().min(0).max(1).optional(),
  },
  RATE_LIMIT_WINDOW_S: {
    doc: 'Length of the per-person rate-limit window, in seconds.',
    example: '60',
    schema: int(1, 86400, 60),
  },
  RATE_LIMIT_READS: {
    doc: 'Reads one person (JWT `sub`) may make per window; roles may raise it in the policy file.',
    example: '600',
    schema: int(1, 1_000_000, 600),
  },
  RATE_LIMIT_WRITES: {
    doc: 'Mutations one person may make per window; roles may raise it in the policy file.',
    example: '60',
    schema: int(1, 1_000_000, 60),
  },
  RATE_LIMIT_UNAUTHENTICATED: {
    doc: 'Requests without a valid token one client address may make per window (slows token guessing).',
    example: '30',
    schema: int(1, 1_000_000, 30),
  },
  RATE_LIMIT_SIGN_IN_FAILURES_RECORDED: {
    doc: 'Failed sign-ins recorded in the audit trail per window, across all addresses (each address adds at most RATE_LIMIT_UNAUTHENTICATED); past it, failures are refused alike and only logged (0: no cap).',
    example: '300',
    schema: int(0, 1_000_000, 300),
  },
  OIDC_TOKEN_CALLS_PER_MINUTE: {
    doc: "Most calls per minute the gateway makes to the identity provider's token endpoint (sign-in code exchanges), across all instances, so a flood of sign-ins cannot get the gateway's client throttled by the IdP (0: no budget).",
    example: '60',
    schema: int(0, 100_000, 60),
  },
  UPSTREAM_RATE_LIMIT: {
    doc: 'Most requests per second the gateway sends the Management API, across all users and instances (0: no budget). Set it under the rate the Management API allows your key, so a burst is refused here (429) instead of there.',
    example: '0',
    schema: int(0, 100_000, 0),
  },
  RATE_LIMIT_STORE_FAILURE: {
    doc: 'When Redis cannot be reached: `open-reads` (reads pass unlimited, mutations get 503), `open` or `closed`.',
    example: 'open-reads',
    schema: z.enum(['open-reads', 'open', 'closed']).default('open-reads'),
  },
  REDIS_URL: {
    doc: 'Redis for rate-limit counters shared by every instance. Unset: counters in memory (one instance only).',
    example: 'redis://redis.internal:6379',
    schema: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    secret: true,
  },
  REDIS_PREFIX: {
    doc: 'Prefix of every Redis key the gateway writes.',
    example: 'kgw:',
    schema: z.string().min(1).max(64).default('kgw:'),
  },
  METRICS_HOST: {
    doc: 'Address of the Prometheus /metrics listener, apart from the API. Keep it off the load balancer: 127.0.0.1, or the pod address your Prometheus scrapes (the container sets 0.0.0.0).',
    example: '127.0.0.1',
    schema: z.string().min(1).default('127.0.0.1'),
  },
  METRICS_PORT: {
    doc: 'Port of the Prometheus /metrics listener (never the API port).',
    example: '9464',
    schema: int(0, 65535, 9464),
  },
  DRAIN_PERIOD_MS: {
    doc: 'On SIGTERM, how long `/readyz` answers 503 `draining` while the listener still serves new requests, so load balancers take the replica out before it stops accepting; then in-flight requests get SHUTDOWN_TIMEOUT_MS. Set it to the readiness probe period times its failure threshold. SIGINT, or a second signal, skips it.',
    example: '5000',
    schema: int(0, 300000, 5000),
  },
  SHUTDOWN_TIMEOUT_MS: {
    doc: 'On SIGTERM, how long in-flight requests may take before the process exits anyway.',
    example: '10000',
    schema: int(0, 600000, 10000),
  },
  HEADERS_TIMEOUT_MS: {
    doc: 'Time a client has to send its request headers (slow-loris guard).',
    example: '10000',
    schema: int(1000, 120000, 10000),
  },
  REQUEST_TIMEOUT_MS: {
    doc: 'Time a client has to send a whole request.',
    example: '30000',
    schema: int(1000, 600000, 30000),
  },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
