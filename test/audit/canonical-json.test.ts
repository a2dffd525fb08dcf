import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { canonicalJson } from '../../src/audit/trail/canonical-json';

/** RFC 8785's published test data (test/fixtures/rfc8785/SOURCE.md): each input, canonicalized, is its output's bytes. */
const VECTORS = join(__dirname, '..', 'fixtures', 'rfc8785');
const names = readdirSync(join(VECTORS, 'input')).filter((f) => f.endsWith('.json'));

test('the published vectors are all here', () => {
  expect(names.sort()).toEqual([
    'arrays.json',
    'french.json',
    'structures.json',
    'unicode.json',
    'values.json',
    'weird.json',
  ]);
});

test.each(names)('RFC 8785 test data: %s', (name) => {
  const input: unknown = JSON.parse(readFileSync(join(VECTORS, 'input', name), 'utf8'));
  const expected = readFileSync(join(VECTORS, 'output', name));
  expect(Buffer.from(canonicalJson(input), 'utf8').equals(expected)).toBe(true);
});

test('canonical JSON is JSON that parses back to the same value, and is the same whatever the key order', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const text = canonicalJson(value);
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      const shuffled = JSON.parse(JSON.stringify(value), (_k, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
      ) as unknown;
      expect(canonicalJson(shuffled)).toBe(text);
    }),
    { numRuns: 300 },
  );
});

test('values JSON cannot hold are written as storing them as JSON would: left out, null, or digits', () => {
  expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  expect(canonicalJson([undefined, NaN, Infinity, { x: 1 }])).toBe('[null,null,null,{"x":1}]');
  expect(canonicalJson(12345678901234567890n)).toBe('12345678901234567890');
  expect(canonicalJson(undefined)).toBe('null');
});
