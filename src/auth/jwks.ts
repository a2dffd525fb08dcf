import { createPublicKey, type KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';

export interface KeyResolver {
  keyFor(kid: string | undefined): Promise<KeyObject>;
}

/**
 * Keys from the identity provider's JWKS. A key once fetched is kept: within the TTL it is used as is;
 * after it, a refetch is tried and, if that fails (the provider is down, or refetches are rate-limited
 * because someone is sending tokens with made-up `kid`s), the last good key is still used. Only a kid
 * never seen before depends on a fetch, so junk tokens cannot lock out valid ones.
 */
export function createJwksResolver(jwksUri: string, cacheTtlS: number, now: () => number = Date.now): KeyResolver {
  const client = new JwksClient({
    jwksUri,
    cache: false,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
    timeout: 5000,
  });
  const known = new Map<string, { key: KeyObject; fetchedAt: number }>();
  const fetchKey = async (kid: string | undefined) => {
    const key = createPublicKey((await client.getSigningKey(kid)).getPublicKey());
    known.set(kid ?? '', { key, fetchedAt: now() });
    return key;
  };
  return {
    async keyFor(kid) {
      const entry = known.get(kid ?? '');
      if (entry && now() - entry.fetchedAt < cacheTtlS * 1000) return entry.key;
      if (!entry) return fetchKey(kid);
      return fetchKey(kid).catch(() => entry.key);
    },
  };
}
