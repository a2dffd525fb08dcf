/**
 * Postgres text and jsonb cannot hold NUL, and pg turns a lone UTF-16 surrogate into U+FFFD. A value stored
 * differently from how it was hashed would break the chain for good, so every string is made storable
 * before an entry is hashed: lone surrogates become U+FFFD, NUL becomes U+FFFD.
 */
export function storable<T>(value: T, depth = 0): T {
  if (depth === 0 && !hasUnstorableText(value)) return value; // the usual case: nothing to copy
  if (typeof value === 'string')
    return value.isWellFormed() && !value.includes('\u0000')
      ? value
      : (value.toWellFormed().replace(/\u0000/g, '\uFFFD') as T);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => storable(v, depth + 1)) as T;
  // Defined, not assigned: assigning a `__proto__` key would set the prototype and drop the field (issue 13, item 9).
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    Object.defineProperty(out, storable(k), {
      value: storable(v, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out as T;
}

/** True when a string would not survive storage unchanged: such input is refused at the edge. */
export function hasUnstorableText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed();
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasUnstorableText(v, depth + 1));
  for (const key of Object.keys(value)) {
    if (hasUnstorableText(key) || hasUnstorableText((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}
