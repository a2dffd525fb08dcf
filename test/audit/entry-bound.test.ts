import fc from 'fast-check';
import { boundEntry, entryBytes, MAX_ENTRY_BYTES, MAX_FINGERPRINTS } from '../../src/audit/trail/size-bound';
import { type EntryContent } from '../../src/audit/trail/entry';
import { createAuditKeys } from '../../src/audit/trail/keys';
import { systemEntry } from '../../src/audit/recording/recorder';
import { CREDENTIAL_NAME, redactForAudit } from '../../src/audit/recording/redact';
import { storable } from '../../src/db/text';

/**
 * Issue 18: whatever a client sends (a body up to BODY_LIMIT, headers up to Node's 16 KiB, token claims), the
 * entry the store writes is within MAX_ENTRY_BYTES and keeps at most MAX_FINGERPRINTS distinct fingerprints.
 * The body goes the way the recorder takes it: redacted, made storable, bounded.
 */

const BODY_LIMIT = 100 * 1024;
const keys = createAuditKeys('entry-bound-test-key-of-at-least-32-bytes');

const credentialName = fc.constantFrom(
  'token',
  'password',
  'api_key',
  'access_key',
  'pwd',
  'jwt',
  'private_key',
  'secret',
  'session_id',
  'Authorization',
);
const scalar = fc.oneof(
  fc.integer(),
  fc.constant(0),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.fullUnicodeString({ maxLength: 12 }),
);
const urlish = fc.oneof(
  fc.constant('a:'),
  fc.integer().map((i) => `h://x/?token=${i}`),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constant('https://u:p@h.example/?pwd=x#jwt=y'),
);
/** One piece of a hostile body; many of them make one up to BODY_LIMIT. */
const piece = fc.oneof(
  fc.tuple(credentialName, fc.array(scalar, { maxLength: 400 })).map(([k, v]) => ({ [k]: v })),
  fc.tuple(credentialName, fc.integer({ min: 1, max: 20_000 })).map(([k, n]) => ({ [k]: new Array(n).fill(0) })),
  fc.array(urlish, { maxLength: 300 }),
  fc.string({ maxLength: 4000 }),
  fc.stringMatching(/^[\u0000-\u001f]{0,2000}$/), // each control character takes 6 bytes of JSON
  fc.jsonValue({ maxDepth: 6 }),
  fc.constant('x'.repeat(20_000)),
);
const body = fc.array(piece, { minLength: 1, maxLength: 60 }).map((pieces) => {
  const kept: unknown[] = [];
  let size = 2;
  for (const p of pieces) {
    const bytes = Buffer.byteLength(JSON.stringify(p) ?? 'null') + 1;
    if (size + bytes > BODY_LIMIT) break;
    kept.push(p);
    size += bytes;
  }
  return { name: 'x', items: kept };
});
/** What headers and token claims can put in an entry: Node refuses headers over 16 KiB in all. */
const headerText = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 200 }),
  fc.stringMatching(/^[\u0000-\u001f]{0,3000}$/),
  fc.constant('é'.repeat(5000)),
);
const claims = fc.record({
  actorName: headerText,
  actorEmail: headerText,
  actorSub: headerText,
  userAgent: headerText,
  path: headerText,
  actorRoles: fc.array(fc.string({ maxLength: 40 }), { maxLength: 400 }),
});

function asStored(requestBody: unknown, extra: Partial<EntryContent>): EntryContent {
  const redacted = redactForAudit(keys, requestBody);
  const content: EntryContent = {
    ...systemEntry('test.bound'),
    kind: 'decision',
    ...extra,
    requestBody: redacted.value,
    fingerprints: redacted.fingerprints,
    details:
      redacted.fingerprintsDropped > 0
        ? { fingerprints_dropped: redacted.fingerprintsDropped, errors: [{ message: 'x'.repeat(500) }] }
        : null,
  };
  return boundEntry(storable(content));
}

test('when any body up to BODY_LIMIT and any headers are recorded, then the stored entry is within 64 KiB with at most 32 distinct fingerprints', () => {
  fc.assert(
    fc.property(body, claims, (b, c) => {
      const stored = asStored(b, c as Partial<EntryContent>);
      expect(entryBytes(stored)).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
      expect(stored.fingerprints.length).toBeLessThanOrEqual(MAX_FINGERPRINTS);
      expect(new Set(stored.fingerprints).size).toBe(stored.fingerprints.length);
    }),
    { seed: 20_261_201, numRuns: 60 },
  );
});

test('when an entry is bounded, then it is bounded again unchanged (the store may see an entry twice: recovery)', () => {
  fc.assert(
    fc.property(body, claims, (b, c) => {
      const once = asStored(b, c as Partial<EntryContent>);
      expect(boundEntry(once)).toEqual(once);
    }),
    { seed: 20_261_202, numRuns: 20 },
  );
});

test('when fingerprints are dropped and the details are too large too, then the count survives in the details note', () => {
  const content: EntryContent = {
    ...systemEntry('test.bound'),
    fingerprints: Array.from({ length: 40 }, (_, i) => keys.fingerprint(String(i))),
    details: { errors: ['y'.repeat(40_000)] },
  };
  const stored = boundEntry(content);
  expect(stored.fingerprints).toHaveLength(32);
  expect(stored.details).toEqual({
    omitted: true,
    reason: 'too large',
    bytes: expect.any(Number),
    sha256: expect.any(String),
    fingerprints_dropped: 8,
  });
});

test.each([
  ...[
    'api_key',
    'apikey',
    'x-api-key',
    'access_key',
    'AccessKey',
    'secret',
    'client_secret',
    'password',
    'passwd',
    'pwd',
    'token',
    'refresh_token',
    'jwt',
    'private_key',
    'credential',
    'X-Amz-Credential',
    'signature',
    'sig',
    'session',
    'sessionid',
    'auth',
    'Authorization',
    'cookie',
    'bearer',
    'key',
    'code',
    'encryption-key',
  ].map((n) => [n, true] as const),
  ...[
    'name',
    'description',
    'url',
    'logo_url',
    'source',
    'id',
    'page',
    'page_size',
    'active',
    'events_enabled',
    'keys',
    'monkey',
    'zipcode',
  ].map((n) => [n, false] as const),
])('when a field or parameter is named %s, then it is treated as a credential: %s', (name, credential) => {
  expect(CREDENTIAL_NAME.test(name)).toBe(credential);
});
