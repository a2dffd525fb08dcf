import { createPublicKey, type KeyObject } from 'node:crypto';

export interface KeyResolver {
  keyFor(kid: string | undefined): Promise<KeyObject>;
  /**
   * The key `keyFor` would answer at once for `kid`, without fetching: undefined when the set is due for a refetch
   * (its TTL ran out) or does not hold the kid. A refetch replaces every KeyObject, so a key compared by identity
   * with an earlier answer tells whether the set changed since.
   */
  current(kid: string | undefined): KeyObject | undefined;
  /**
   * For a token without `kid`: every key of the set `fits` accepts (its algorithm's type). Refetches when there is
   * none, as for an unknown kid; UnknownKey when there is still none.
   */
  keysFitting(fits: (key: KeyObject) => boolean): Promise<KeyObject[]>;
}

/** The token names a key the identity provider does not publish (or it could not be asked, and none is known). */
export class UnknownKey extends Error {
  override name = 'UnknownKey';
}

/**
 * Refetches at most once per cooldown, whatever asks: the cache TTL running out, or a token naming a `kid` not in
 * the set. 10 s: a key rotated in right after a fetch is usable within 10 s, and a flood of made-up kids costs the
 * identity provider at most 6 requests a minute (jwks-rsa allowed 10, then refused every refetch, so about ten junk
 * tokens a minute kept a rotated key from ever being fetched: issue 13, defect 3).
 */
export const JWKS_COOLDOWN_MS = 10_000;
const FETCH_TIMEOUT_MS = 5_000;

export interface JwksOptions {
  url: string;
  cacheTtlS: number;
  now?: () => number;
  cooldownMs?: number;
}

/**
 * The identity provider's whole key set, fetched and kept together: a refetch replaces the set (a key the provider
 * stopped publishing stops verifying), a failed one keeps the last good set (the provider being down does not lock
 * anyone out). Unknown kids can trigger a refetch only once per cooldown, so they cannot starve a rotation: the
 * next refetch brings every new key, whichever token asked for it. Concurrent requests share one fetch.
 */
export function createJwksResolver({
  url,
  cacheTtlS,
  now = Date.now,
  cooldownMs = JWKS_COOLDOWN_MS,
}: JwksOptions): KeyResolver {
  let keys = new Map<string, KeyObject>();
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let inFlight: Promise<void> | undefined;

  const refresh = (): Promise<void> => {
    if (inFlight) return inFlight;
    if (now() - attemptedAt < cooldownMs) return Promise.resolve();
    attemptedAt = now();
    inFlight = fetchKeySet(url)
      .then(
        (fetched) => {
          keys = fetched;
          fetchedAt = now();
        },
        () => undefined, // keep the last good set; the next attempt waits for the cooldown
      )
      .finally(() => (inFlight = undefined));
    return inFlight;
  };
  const lookup = (kid: string | undefined) =>
    kid === undefined ? (keys.size === 1 ? [...keys.values()][0] : undefined) : keys.get(kid);

  const fitting = (fits: (key: KeyObject) => boolean) => [...keys.values()].filter(fits);

  return {
    async keysFitting(fits) {
      if (now() - fetchedAt >= cacheTtlS * 1000) await refresh();
      if (fitting(fits).length === 0) await refresh();
      const found = fitting(fits);
      if (found.length === 0) throw new UnknownKey('no kid, and no key of its algorithm');
      return found;
    },
    current: (kid) => (now() - fetchedAt >= cacheTtlS * 1000 ? undefined : lookup(kid)),
    async keyFor(kid) {
      if (now() - fetchedAt >= cacheTtlS * 1000) await refresh();
      const known = lookup(kid);
      if (known) return known;
      await refresh();
      const fetched = lookup(kid);
      if (!fetched) throw new UnknownKey(kid === undefined ? 'no kid, and not exactly one key' : 'kid not published');
      return fetched;
    },
  };
}

/** GET the JWKS and keep every signing key it holds that Node can use (RSA, EC, OKP Ed25519; `use` absent or `sig`). */
async function fetchKeySet(url: string): Promise<Map<string, KeyObject>> {
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`JWKS answered ${res.status}`);
  const body = (await res.json()) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error('JWKS has no keys array');
  const keys = new Map<string, KeyObject>();
  for (const jwk of body.keys as Record<string, unknown>[]) {
    if (
      typeof jwk !== 'object' ||
      jwk === null ||
      (jwk.use !== undefined && jwk.use !== 'sig') ||
      (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && !(jwk.kty === 'OKP' && jwk.crv === 'Ed25519'))
    )
      continue;
    try {
      keys.set(typeof jwk.kid === 'string' ? jwk.kid : '', createPublicKey({ key: jwk as never, format: 'jwk' }));
    } catch {
      // A key Node cannot read is skipped, not fatal: the others still verify.
    }
  }
  if (keys.size === 0) throw new Error('JWKS holds no usable signing key');
  return keys;
}
