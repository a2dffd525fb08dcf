/**
 * RFC 8785 JSON Canonicalization Scheme for the values an audit entry holds (JSON from Postgres: no
 * undefined, no non-finite numbers): object members sorted by their names' UTF-16 code units, no
 * whitespace, strings and numbers exactly as ECMAScript's JSON.stringify writes them (RFC 8785 §3.2.2
 * defers to it). Pure, shared with the offline verifier.
 */
export function jcs(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${jcs(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('JSON has no non-finite numbers');
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}
