/**
 * The one canonical JSON of the audit trail: RFC 8785 (JSON Canonicalization Scheme). Object members sorted by
 * their names' UTF-16 code units, no whitespace, strings and numbers exactly as ECMAScript's JSON.stringify writes
 * them (RFC 8785 §3.2.2 defers to it). It is what the chain hashes (src/audit/trail/entry.ts), what the size bound
 * measures (src/audit/trail/size-bound.ts) and what a leaf of the transparency log is (src/audit/log/leaf.ts, shared with the
 * offline verifier). Pure; pinned by the RFC's published test data (test/audit/canonical-json.test.ts).
 *
 * For values that are not JSON it does what storing them as JSON does, so a hash matches what is read back:
 * `undefined` members are left out, `undefined` elsewhere is `null`, as are non-finite numbers (jsonb keeps none),
 * and a bigint is its decimal digits.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value))
    // An array of scalars is what JSON.stringify writes, byte for byte, at native speed: 50,000 fingerprints or
    // zeros hash in a millisecond, not a quarter of a second (issue 18).
    return value.every(isScalar) ? JSON.stringify(value) : `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(byCodeUnit);
    const parts: string[] = [];
    for (const k of keys) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const isScalar = (v: unknown) =>
  v === null || v === undefined || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'bigint');

/** RFC 8785 §3.2.3: member names compared as arrays of UTF-16 code units (JavaScript's own string order). */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
