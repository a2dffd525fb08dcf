import type { KeyObject } from 'node:crypto';

/** A token verified once, kept so the next request with the same token skips the signature and claim checks. */
interface Entry<T> {
  value: T;
  /** The token's `exp`, in ms: the entry is never used at or after it. */
  expiresAtMs: number;
  /** The key that verified it: the entry is used only while the verifier would still pick this very key. */
  key: KeyObject;
  kid: string | undefined;
}

/** Tokens longer than this are verified every time (a cache of a few large tokens would be a memory lever). */
export const MAX_CACHED_TOKEN_LENGTH = 4096;

/**
 * Verified tokens, keyed by the whole token (signature included: a token that differs by one byte is another
 * key), least recently used first out. Only successes are kept. An entry is dropped, never used, once the clock
 * reaches the token's `exp`, or when the key that verified it is no longer the one the verifier holds for its
 * `kid` (the JWKS key set was refetched or rotated). At most `max` entries of at most 4 KiB of token each.
 */
export class TokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value verified for `token`, if it is still good: before its `exp`, and the verifier still holds the key that verified it. */
  get(token: string, stillHeld: (key: KeyObject, kid: string | undefined) => boolean): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (this.now() >= entry.expiresAtMs || !stillHeld(entry.key, entry.kid)) {
      this.entries.delete(token);
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(token);
    this.entries.set(token, entry);
    return entry.value;
  }

  set(token: string, value: T, expSeconds: number, key: KeyObject, kid: string | undefined): void {
    if (this.max <= 0 || token.length > MAX_CACHED_TOKEN_LENGTH) return;
    const expiresAtMs = expSeconds * 1000;
    if (!(this.now() < expiresAtMs)) return;
    this.entries.delete(token);
    while (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(token, { value, expiresAtMs, key, kid });
  }

  clear(): void {
    this.entries.clear();
  }
}
