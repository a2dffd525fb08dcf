import fc from 'fast-check';
import { ERROR_CODES } from '../../src/errors/codes';
import { DEVELOPER_KEY, startHarness, type Harness } from '../helpers/harness';
import type { RawResponse } from '../helpers/raw-request';
import { signToken, tokenFor } from '../helpers/tokens';
import { APP, sendRaw } from './support';

/**
 * Property-based fuzzing of paths, query strings and bodies (fast-check, fixed seed, bounded runs). Whatever
 * comes in, the gateway answers; never 500; every answer is the gateway's envelope (with a declared code and
 * its status) or the upstream's own answer passed through; and nothing it refused reached the upstream. What
 * did reach the upstream is always one of the catalogued operations with valid ids, the server's key, a query
 * and a body it rebuilt. On failure fast-check prints the seed and the counterexample; rerun a failure with
 * FUZZ_SEED=<seed>.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);

let h: Harness;
let admin: string;
let viewer: string;
beforeAll(async () => {
  h = await startHarness({ env: { UPSTREAM_TIMEOUT_MS: '2000' } });
  admin = tokenFor('admin', 'fuzz-admin');
  viewer = tokenFor('viewer', 'fuzz-viewer');
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
// Each property starts from the seeded store (a fuzzed DELETE may have removed the example application).
beforeEach(() => h.simulator.reset());

// ---- what the fuzzer sends ----

const tricky = fc.constantFrom(
  '..',
  '.',
  '%2e',
  '%2f',
  '%2F',
  '%252f',
  '%5c',
  '\\',
  '@',
  '%40',
  ';',
  '%00',
  '%0a',
  '%20',
  '%c0%ae',
  '~',
  '$',
  '*',
  "'",
  '"',
  '<',
  '>',
  '{',
  '}',
  '|',
  '^',
  '`',
  '[',
  ']',
  '%',
  '%%',
  '%zz',
  ',',
  '=',
  '&',
  '+',
  '!',
);
/** A path segment: a valid id, any text percent-encoded, or a splice of tricky pieces sent raw. */
const segment = fc.oneof(
  fc.constantFrom(APP, '100', 'wSPk9y5D7p5o87k0ACGKxR', 'x'.repeat(128), 'x'.repeat(129), ''),
  fc.fullUnicodeString({ maxLength: 20 }).map(encodeURIComponent),
  fc
    .array(fc.oneof(tricky, fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/)), { minLength: 1, maxLength: 6 })
    .map((p) => p.join('')),
);
const collection = fc.constantFrom('applications', 'apikeys', 'webhooks', 'Applications', 'applications.json', '');
const path = fc
  .tuple(
    fc.constantFrom('/v1/', '/v1//', '/V1/', '/v1/./', '/v2/'),
    fc.array(fc.oneof(collection, segment), { minLength: 1, maxLength: 5 }),
    fc.constantFrom('', '/', '//'),
  )
  .map(([prefix, parts, tail]) => `${prefix}${parts.join('/')}${tail}`);
/** Realistic paths with one hostile id: most runs reach validation rather than 404. */
const catalogued = fc
  .tuple(fc.constantFrom('', '/apikeys', '/webhooks', '/webhooks/100', '/apikeys/KEY'), segment, segment)
  .map(([rest, appId, other]) => `/v1/applications/${appId}${rest.replace('100', other).replace('KEY', other)}`);

const queryKey = fc.oneof(
  fc.constantFrom(
    'page',
    'page_size',
    'active',
    '_method',
    'access_token',
    '__proto__',
    'constructor[prototype][x]',
    'page[]',
    'page_size[a]',
    'x',
  ),
  fc.string({ maxLength: 8 }),
);
const queryValue = fc.oneof(
  fc.constantFrom(
    '1',
    '1000',
    '1001',
    '0',
    '-1',
    '1e3',
    '0x10',
    ' 1',
    '01',
    'True',
    'false',
    'NaN',
    'Infinity',
    '9'.repeat(30),
    '',
    '%00',
  ),
  fc.integer().map(String),
  fc.fullUnicodeString({ maxLength: 12 }),
);
const query = fc
  .array(fc.tuple(queryKey, queryValue, fc.boolean()), { maxLength: 5 })
  .map((pairs) =>
    pairs
      .map(
        ([k, v, encodeKey]) =>
          `${encodeKey ? encodeURIComponent(k) : k.replace(/[^\x21-\x7e]|[#&]/g, encodeURIComponent)}=${encodeURIComponent(v)}`,
      )
      .join('&'),
  );

const urlish = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom(
    'javascript:alert(1)',
    'https://%zz@h.example/',
    'http://[::1]/',
    'https://u:p@h.example/?token=t',
    'file:///etc/passwd',
    ' https://h.example',
    '',
  ),
  fc.string(),
);
const field = fc.oneof(
  fc.string(),
  fc.fullUnicodeString(),
  fc.string16bits({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('True', 'False'),
  urlish,
  fc.jsonValue({ maxDepth: 3 }),
);
const knownFields = fc.record(
  {
    name: field,
    description: field,
    logo_url: urlish,
    url: urlish,
    active: field,
    source: field,
    implicit_grant_enabled: field,
    recent_enabled: field,
    events_enabled: field,
    key: field,
    id: field,
    __proto__: field,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  knownFields.map((o) => Buffer.from(JSON.stringify(o))),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.json({ maxDepth: 3 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.fullUnicodeString({ maxLength: 40 }).map((s) => Buffer.from(s)),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  null,
);
const method = fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS');
const who = fc.constantFrom<'admin' | 'viewer' | 'junk' | 'none'>('admin', 'admin', 'admin', 'viewer', 'junk', 'none');

interface Sent {
  method: string;
  target: string;
  who: 'admin' | 'viewer' | 'junk' | 'none';
  contentType: string | null;
  body: Buffer | null;
}

// ---- what must hold ----

const UPSTREAM_PATH =
  /^\/v1\/applications\/(?:[A-Za-z0-9_-]{1,128}\/(?:(?:apikeys|webhooks)\/(?:[A-Za-z0-9_-]{1,128}\/)?)?)?$/;
const ALLOWED_QUERY = new Set(['page', 'page_size', 'active']);

async function send(s: Sent): Promise<RawResponse> {
  const headers: [string, string][] = [];
  if (s.who !== 'none')
    headers.push(['Authorization', s.who === 'junk' ? 'Bearer a.b.c' : `Bearer ${s.who === 'admin' ? admin : viewer}`]);
  if (s.contentType) headers.push(['Content-Type', s.contentType]);
  return sendRaw(h, s.method, s.target, headers, s.body ?? undefined);
}

/** How often each status came back: the last test checks the fuzzer reached both refusals and forwarding. */
const seenStatuses = new Map<number, number>();
let forwardedRuns = 0;

async function holds(s: Sent): Promise<void> {
  const before = h.simulator.requests.length;
  const res = await send(s);
  const forwarded = h.simulator.requests.slice(before);
  seenStatuses.set(res.status, (seenStatuses.get(res.status) ?? 0) + 1);
  if (forwarded.length > 0) forwardedRuns++;

  expect(res.status).not.toBe(500);
  expect(res.status).toBeGreaterThanOrEqual(200);
  expect(res.status).toBeLessThan(600);
  // What reached the upstream is always a catalogued operation the gateway rebuilt, with its own key.
  for (const up of forwarded) {
    expect(up.method).toBe(s.method);
    expect(up.path).toMatch(UPSTREAM_PATH);
    expect(up.headers.authorization).toBe(`DeveloperKey ${DEVELOPER_KEY}`);
    expect(Object.keys(up.query).filter((k) => !ALLOWED_QUERY.has(k))).toEqual([]);
    if (up.rawBody !== '') expect(JSON.parse(up.rawBody)).toEqual(expect.any(Object));
  }

  if (s.method === 'HEAD' || s.method === 'OPTIONS') {
    // No body to inspect: HEAD matches no operation (405/404/401), OPTIONS is answered by CORS (204). Neither is forwarded.
    expect(forwarded).toHaveLength(0);
    return;
  }
  const envelope = parseEnvelope(res.text);
  if (envelope) {
    const declared = ERROR_CODES[envelope.code as keyof typeof ERROR_CODES];
    expect(declared).toBeDefined();
    expect(res.status).toBe(declared.status);
    expect(envelope.request_id).toBe(res.headers['x-request-id']);
    // A refusal is never forwarded; only the upstream_* codes come after forwarding.
    if (!envelope.code.startsWith('upstream_')) expect(forwarded).toHaveLength(0);
  } else if (res.status === 202) {
    // A guarded operation (two-person rule) became an approval request: stored, not forwarded.
    expect(res.headers.location).toMatch(/^\/v1\/approvals\/[0-9a-f-]{36}$/);
    expect(forwarded).toHaveLength(0);
  } else if (
    res.status === 200 &&
    s.method === 'GET' &&
    /^\/v1\/applications\/?(\?|$)/.test(s.target) &&
    s.who === 'viewer'
  ) {
    // A team's list, cut by the gateway from its directory of applications (walked upstream at most every few seconds).
    expect(JSON.parse(res.text)).toMatchObject({ total: expect.any(Number), objects: expect.any(Array) });
  } else {
    // Not the envelope: the upstream's own answer, so the request must have reached it.
    expect(forwarded.length).toBeGreaterThanOrEqual(1);
    expect(res.headers['cache-control']).toBe('no-store');
  }
}

function parseEnvelope(text: string): { code: string; request_id: string } | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; request_id?: unknown } };
    return typeof parsed?.error?.code === 'string' ? (parsed.error as { code: string; request_id: string }) : undefined;
  } catch {
    return undefined;
  }
}

const params = { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 25_000, markInterruptAsFailure: false };

test(`when paths are fuzzed (seed ${SEED}), then the gateway holds`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(path, catalogued), method, who, async (target, m, w) =>
      holds({ method: m, target, who: w, contentType: null, body: null }),
    ),
    params,
  );
}, 30_000);

test(`when query strings are fuzzed (seed ${SEED}), then the gateway holds`, async () => {
  const target = fc.constantFrom(
    '/v1/applications',
    `/v1/applications/${APP}`,
    `/v1/applications/${APP}/apikeys`,
    `/v1/applications/${APP}/webhooks`,
    `/v1/applications/${APP}/webhooks/100`,
  );
  await fc.assert(
    fc.asyncProperty(target, query, fc.constantFrom('GET', 'GET', 'POST', 'DELETE'), who, async (t, q, m, w) =>
      holds({
        method: m,
        target: `${t}?${q}`,
        who: w,
        contentType: m === 'POST' ? 'application/json' : null,
        body: m === 'POST' ? Buffer.from('{"url":"https://hooks.example.com/q","name":"q"}') : null,
      }),
    ),
    params,
  );
}, 30_000);

test(`when bodies are fuzzed (seed ${SEED}), then the gateway holds`, async () => {
  const WEBHOOKS = `/v1/applications/${APP}/webhooks`;
  // Half the runs pair an operation with a body it would accept (any text inside), so they reach the upstream.
  const matched = fc.oneof(
    fc.record({ url: urlish }).map((b) => ['POST', WEBHOOKS, b] as const),
    fc
      .record(
        {
          name: fc.fullUnicodeString({ minLength: 1, maxLength: 40 }),
          description: fc.fullUnicodeString({ maxLength: 40 }),
          logo_url: fc.constantFrom('', 'https://l.example/x.png'),
          events_enabled: fc.constantFrom(true, 'True', 'false'),
        },
        { requiredKeys: ['name'] },
      )
      .map((b) => ['POST', '/v1/applications', b] as const),
    fc
      .record(
        { description: fc.fullUnicodeString({ maxLength: 40 }), active: fc.constantFrom(true, 'False') },
        { requiredKeys: ['description'] },
      )
      .map((b) => ['PATCH', `/v1/applications/${APP}`, b] as const),
    fc.constant(['POST', `/v1/applications/${APP}/apikeys`, {}] as const),
  );
  const anyTarget = fc.constantFrom<[string, string]>(
    ['POST', '/v1/applications'],
    ['PATCH', `/v1/applications/${APP}`],
    ['POST', WEBHOOKS],
    ['POST', `/v1/applications/${APP}/apikeys`],
    ['GET', '/v1/applications'],
    ['DELETE', `${WEBHOOKS}/100`],
  );
  const run = fc.oneof(
    fc
      .tuple(matched, fc.constantFrom<'admin' | 'viewer'>('admin', 'admin', 'admin', 'viewer'))
      .map(([[m, t, b], w]) => ({
        method: m,
        target: t,
        who: w,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify(b)),
      })),
    fc
      .tuple(anyTarget, body, contentType, who)
      .map(([[m, t], b, ct, w]) => ({ method: m, target: t, who: w, contentType: ct, body: b })),
  );
  await fc.assert(
    fc.asyncProperty(run, async (sent) => holds(sent)),
    params,
  );
}, 30_000);

/** How many trail entries carry this request id (the gateway's own, unique per request). */
async function trailEntries(requestId: string): Promise<number> {
  const [row] = await h.gateway.database.prisma.$queryRaw<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM audit_entry WHERE request_id = ${requestId}`;
  return row?.n ?? 0;
}

/** Issue 18: no input to the audit routes is a 5xx, and each read, answered or refused, leaves an access entry. */
test(`when the audit routes are fuzzed (seed ${SEED}), then never a 5xx and every read leaves an access entry`, async () => {
  const auditor = signToken({ sub: 'fuzz-auditor', roles: ['auditor'] });
  const time = fc.oneof(
    fc
      .date({ min: new Date(-62_000_000_000_000), max: new Date(253_402_300_799_000) })
      .map((d) => (Number.isNaN(d.getTime()) ? '2026-01-01T00:00:00Z' : d.toISOString())),
    fc.constantFrom(
      '0000-01-01T00:00:00Z',
      '2026-01-01T00:00:00+23:59',
      '2026-01-01T00:00:00-16:00',
      '9999-12-31T23:59:59.9999999Z',
      '2026-02-30T00:00:00Z',
      '+275760-09-13T00:00:00Z',
    ),
  );
  const number = fc.oneof(
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    fc.constantFrom('0', '1', '9223372036854775807', '9223372036854775808', '9999999999999999999', '1e3', '-1', ''),
  );
  const cursor = fc.oneof(
    number.map((n) => Buffer.from(JSON.stringify({ s: n, o: 'desc' })).toString('base64url')),
    fc.string({ maxLength: 30 }),
  );
  const eventsQuery = fc
    .array(
      fc.oneof(
        time.map((t) => `since=${encodeURIComponent(t)}`),
        time.map((t) => `until=${encodeURIComponent(t)}`),
        cursor.map((c) => `cursor=${encodeURIComponent(c)}`),
        number.map((n) => `limit=${n}`),
        fc.constantFrom(
          'outcome=pending',
          'outcome=upstream_timeout',
          'application_id=x',
          'order=asc',
          'kind=access',
          'format=ndjson',
          'request_id=%00',
        ),
      ),
      { maxLength: 4 },
    )
    .map((parts) => `/v1/audit/events?${parts.join('&')}`);
  const target = fc.oneof(
    eventsQuery,
    number.map((n) => `/v1/audit/events/${encodeURIComponent(n)}`),
    fc.string({ maxLength: 40 }).map((c) => `/v1/audit/verify?checkpoint=${encodeURIComponent(c)}`),
  );
  await fc.assert(
    fc.asyncProperty(target, async (t) => {
      const res = await sendRaw(h, 'GET', t, [['Authorization', `Bearer ${auditor}`]]);
      expect(res.status).toBeLessThan(500);
      expect(await trailEntries(res.headers['x-request-id'] as string)).toBe(1);
    }),
    { ...params, numRuns: Math.ceil(RUNS / 2) },
  );
}, 30_000);

/** Issue 18: whatever the Content-Encoding and bytes of a mutation, never a 5xx, and every refusal leaves an entry. */
test(`when content encodings are fuzzed (seed ${SEED}), then never a 5xx and every refused mutation leaves a trail entry`, async () => {
  const { gzipSync, deflateSync, brotliCompressSync } = await import('node:zlib');
  const encoders: Record<string, (b: Buffer) => Buffer> = {
    gzip: gzipSync,
    deflate: deflateSync,
    br: brotliCompressSync,
    identity: (b) => b,
  };
  const payload = fc.oneof(fc.constant(Buffer.from('{"name":"encoded"}')), body);
  const run = fc.tuple(
    fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'GZIP', 'x-gzip', 'gzip, gzip', 'compress', ''),
    payload,
    fc.constantFrom('whole', 'truncated', 'raw', 'flipped'),
  );
  await fc.assert(
    fc.asyncProperty(run, async ([encoding, raw, shape]) => {
      const encode = encoders[encoding.toLowerCase()] ?? ((b: Buffer) => b);
      let bytes = shape === 'raw' ? raw : encode(raw);
      if (shape === 'truncated') bytes = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
      if (shape === 'flipped' && bytes.length > 4)
        bytes = Buffer.concat([bytes.subarray(0, 3), Buffer.from([bytes[3]! ^ 0xff]), bytes.subarray(4)]);
      const headers: [string, string][] = [
        ['Authorization', `Bearer ${admin}`],
        ['Content-Type', 'application/json'],
      ];
      if (encoding) headers.push(['Content-Encoding', encoding]);
      const res = await sendRaw(h, 'POST', '/v1/applications', headers, bytes);
      expect(res.status).toBeLessThan(500);
      // Served (request + response entries) or refused (one decision entry): never nothing.
      expect(await trailEntries(res.headers['x-request-id'] as string)).toBeGreaterThanOrEqual(1);
    }),
    { ...params, numRuns: Math.ceil(RUNS / 2) },
  );
}, 30_000);

test('after the fuzzing, the gateway is still up, the runs reached both refusals and the upstream, and the audit chain verifies', async () => {
  expect((await h.api().get('/healthz')).status).toBe(200);
  const total = [...seenStatuses.values()].reduce((a, b) => a + b, 0);
  expect(total).toBe(3 * RUNS);
  for (const status of [200, 400, 401, 404, 405, 415]) expect(seenStatuses.get(status) ?? 0).toBeGreaterThan(0);
  expect(forwardedRuns).toBeGreaterThan(RUNS / 10);
  const verify = await h
    .api()
    .get('/v1/audit/verify')
    .set('Authorization', `Bearer ${signToken({ sub: 'fuzz-auditor', roles: ['auditor'] })}`);
  expect(verify.body.ok).toBe(true);
});
