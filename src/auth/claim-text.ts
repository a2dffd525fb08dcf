/**
 * Text a person's identity may hold: no NUL or other control characters, no lone UTF-16 surrogates. Postgres refuses
 * NUL in text (a 503 once stored), and a lone surrogate is replaced by U+FFFD on the way into the database, so the
 * stored person would differ from the one that asked (issue 23, finding 6).
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function isCleanText(text: string): boolean {
  return !CONTROL.test(text) && text.isWellFormed();
}

/** The first identity claim whose text is not clean, or undefined. */
export function uncleanClaim(claims: Record<string, unknown>, names: readonly string[]): string | undefined {
  return names.find((name) => typeof claims[name] === 'string' && !isCleanText(claims[name] as string));
}
