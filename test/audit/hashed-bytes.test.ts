import fc from 'fast-check';
import { canonicalJson } from '../../src/audit/trail/canonical-json';
import { CONTENT_FIELDS, hashedContent, LATER_FIELDS, type EntryContent } from '../../src/audit/trail/entry';
import { hasUnstorableText, storable } from '../../src/db/text';
import { systemEntry } from '../../src/audit/recording/recorder';

/**
 * What an entry's hash covers must never change: entries written by earlier versions are verified with
 * today's code. hashedContent builds the bytes without sorting per entry, and storable leaves clean strings
 * alone; both are held here to their plain definitions. FUZZ_SEED=<seed> replays a run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);

/** The definition: the canonical JSON of {seq, keyId, ...every content field}, a later field only when set. */
const reference = (seq: bigint, keyId: string, content: EntryContent) => {
  const fields: Record<string, unknown> = { seq: seq.toString(), keyId };
  for (const name of CONTENT_FIELDS)
    if (!(LATER_FIELDS.has(name) && content[name] === null)) fields[name] = content[name];
  return canonicalJson(fields);
};

/** The definition: every string through toWellFormed and NUL → U+FFFD, objects and arrays copied. */
const plainStorable = (value: unknown, depth = 0): unknown => {
  if (typeof value === 'string') return value.toWellFormed().replace(/\u0000/g, '\uFFFD');
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => plainStorable(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [plainStorable(k), plainStorable(v, depth + 1)]));
};

/** The definition: any string, key or value, up to depth 32, holding NUL or a lone surrogate. */
const plainHasUnstorable = (value: unknown, depth = 0): boolean => {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed();
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  const items = Array.isArray(value) ? value : Object.entries(value).flat();
  return items.some((v) => plainHasUnstorable(v, depth + 1));
};

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '\u0000', '\uD800', 'a\uDC00b', '"quoted"', 'zürich', '😀'),
);
const json = fc.jsonValue({ maxDepth: 3 });
const entry: fc.Arbitrary<EntryContent> = fc.record({
  at: fc.constant('2026-11-27T07:26:12.123456Z'),
  kind: fc.constantFrom('request', 'response', 'decision', 'access', 'system'),
  eventId: fc.uuid(),
  requestId: text,
  actorSub: fc.option(text),
  actorName: fc.option(text),
  actorEmail: fc.option(text),
  actorRoles: fc.array(text, { maxLength: 3 }),
  actorJti: fc.option(text),
  actorIssuer: fc.option(text),
  clientIp: fc.option(text),
  userAgent: fc.option(text),
  operation: fc.option(text),
  method: fc.option(fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE')),
  path: fc.option(text),
  applicationId: fc.option(text),
  webhookId: fc.option(text),
  apikeyFingerprint: fc.option(text),
  requestBody: fc.option(json),
  details: fc.option(json),
  decision: fc.option(fc.constantFrom('allowed', 'denied')),
  reason: fc.option(text),
  outcome: fc.option(fc.constantFrom('success', 'upstream_error', 'not_forwarded', 'outcome_unknown')),
  upstreamStatus: fc.option(fc.integer({ min: 100, max: 599 })),
  errorCode: fc.option(text),
  latencyMs: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true })),
  fingerprints: fc.array(text, { maxLength: 3 }),
  team: fc.option(text),
  approvalId: fc.option(fc.uuid()),
  clientRequestId: fc.option(text),
}) as fc.Arbitrary<EntryContent>;

describe('the bytes an audit entry hash covers', () => {
  test('are the canonical JSON of seq, key id and every field, for any entry', () => {
    fc.assert(
      fc.property(
        entry,
        fc.bigInt({ min: 1n, max: 2n ** 62n }),
        text,
        (content, seq, keyId) => hashedContent(seq, keyId, content) === reference(seq, keyId, content),
      ),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  test('are pinned for one entry, so a change to the format cannot pass unnoticed', () => {
    const content = {
      ...systemEntry('audit.recovery'),
      at: '2026-11-27T07:26:12.123456Z',
      eventId: '00000000-0000-4000-8000-000000000000',
      details: { b: 1, a: [true, null] },
    };
    expect(hashedContent(42n, 'k1', content)).toBe(
      '{"actorEmail":null,"actorIssuer":null,"actorJti":null,"actorName":null,"actorRoles":[],"actorSub":null,"apikeyFingerprint":null,' +
        '"applicationId":null,"at":"2026-11-27T07:26:12.123456Z","clientIp":null,"decision":null,"details":{"a":[true,null],"b":1},' +
        '"errorCode":null,"eventId":"00000000-0000-4000-8000-000000000000","fingerprints":[],"keyId":"k1","kind":"system","latencyMs":null,' +
        '"method":null,"operation":"audit.recovery","outcome":null,"path":null,"reason":null,"requestBody":null,"requestId":"system",' +
        '"seq":"42","upstreamStatus":null,"userAgent":null,"webhookId":null}',
    );
  });

  test('leave out a later field when it is null, so entries written before it existed still verify', () => {
    const content = {
      ...systemEntry('audit.recovery'),
      at: '2026-11-27T07:26:12.123456Z',
      eventId: '00000000-0000-4000-8000-000000000000',
    };
    expect(hashedContent(42n, 'k1', { ...content, team: null })).not.toContain('"team"');
    expect(hashedContent(42n, 'k1', { ...content, team: 'payments' })).toContain(
      '"seq":"42","team":"payments","upstreamStatus":null',
    );
    expect(hashedContent(42n, 'k1', { ...content, clientRequestId: null })).not.toContain('"clientRequestId"');
    expect(hashedContent(42n, 'k1', { ...content, clientRequestId: 'trace-1234' })).toContain(
      '"clientIp":null,"clientRequestId":"trace-1234","decision"',
    );
  });

  test('come from storable values equal to the plain definition, for any value', () => {
    fc.assert(
      fc.property(fc.oneof(text, json, entry, fc.dictionary(text, text)), (value) => {
        expect(storable(value)).toEqual(plainStorable(value));
        expect(hasUnstorableText(value)).toBe(plainHasUnstorable(value));
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });
});
