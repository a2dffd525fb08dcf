import { createPublicKey, type KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';

export interface KeyResolver {
  keyFor(kid: string | undefined): Promise<KeyObject>;
}

/** Keys from the identity provider's JWKS: cached, refetched (rate-limited) when a token names an unknown `kid`. */
export function createJwksResolver(jwksUri: string, cacheTtlS: number): KeyResolver {
  const client = new JwksClient({
    jwksUri,
    cache: true,
    cacheMaxEntries: 20,
    cacheMaxAge: cacheTtlS * 1000,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
    timeout: 5000,
  });
  const keyObjects = new Map<string, { key: KeyObject; pem: string }>();
  return {
    async keyFor(kid) {
      const pem = (await client.getSigningKey(kid)).getPublicKey();
      const cacheKey = kid ?? '';
      const cached = keyObjects.get(cacheKey);
      if (cached?.pem === pem) return cached.key;
      const key = createPublicKey(pem);
      keyObjects.set(cacheKey, { key, pem });
      return key;
    },
  };
}
