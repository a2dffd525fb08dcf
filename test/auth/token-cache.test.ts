import { createPublicKey, createSecretKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenCache, MAX_CACHED_TOKEN_LENGTH } from '../../src/auth/token-cache';
import { createTokenVerifier } from '../../src/auth/verifier';
import { loadConfig } from '../../src/config/load';
import { rsaKeyPair, signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';

/**
 * The verified-token cache (issue 16): a verified token skips the checks on its next request, but an entry never
 * outlives the token's `exp`, never outlives the key that verified it, and the cache is bounded. Every clock here
 * is one the test moves.
 */

const key = createSecretKey(Buffer.from('k'.repeat(32)));

describe('TokenCache', () => {
  test('holds at most `max` entries, dropping the least recently used', () => {
    const clock = { ms: 0 };
    const cache = new TokenCache<string>(2, () => clock.ms);
    const current = (k: unknown) => k === key;
    cache.set('a', 'A', 100, key, undefined);
    cache.set('b', 'B', 100, key, undefined);
    expect(cache.get('a', current)).toBe('A'); // a is now the most recently used
    cache.set('c', 'C', 100, key, undefined);
    expect(cache.size).toBe(2);
    expect(cache.get('b', current)).toBeUndefined();
    expect(cache.get('a', current)).toBe('A');
    expect(cache.get('c', current)).toBe('C');
  });

  test('never answers at or after the exp it was given, and forgets the entry', () => {
    const clock = { ms: 99_999 };
    const cache = new TokenCache<string>(10, () => clock.ms);
    cache.set('t', 'T', 100, key, undefined);
    expect(cache.get('t', (k) => k === key)).toBe('T');
    clock.ms = 100_000;
    expect(cache.get('t', (k) => k === key)).toBeUndefined();
    expect(cache.size).toBe(0);
    clock.ms = 0; // a clock stepped back does not revive it
    expect(cache.get('t', (k) => k === key)).toBeUndefined();
  });

  test('keeps nothing that is already expired, nothing with a cache of size 0, and no oversized token', () => {
    const clock = { ms: 100_000 };
    new TokenCache<string>(10, () => clock.ms).set('t', 'T', 100, key, undefined);
    const cache = new TokenCache<string>(10, () => clock.ms);
    cache.set('old', 'T', 100, key, undefined);
    cache.set('big', 'T', 1000, key, undefined);
    cache.set('x'.repeat(MAX_CACHED_TOKEN_LENGTH + 1), 'T', 1000, key, undefined);
    expect(cache.size).toBe(1);
    const none = new TokenCache<string>(0, () => clock.ms);
    none.set('t', 'T', 1000, key, undefined);
    expect(none.size).toBe(0);
  });

  test('answers only while the verifier still holds the very key that verified the entry', () => {
    const cache = new TokenCache<string>(10, () => 0);
    const same = createSecretKey(Buffer.from('k'.repeat(32))); // equal bytes, another KeyObject: a refetched set
    cache.set('t', 'T', 100, key, 'k1');
    expect(cache.get('t', (k, kid) => kid === 'k1' && k === key)).toBe('T');
    expect(cache.get('t', (k) => k === same)).toBeUndefined();
    expect(cache.get('t', (k) => k === key)).toBeUndefined(); // dropped, not merely skipped
  });
});

describe('the token verifier with a shared secret', () => {
  const config = loadConfig({
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    JWT_CLOCK_TOLERANCE_S: '30',
  });
  const nowS = Math.floor(Date.now() / 1000);

  test('a token verified once is answered from the cache: the same, frozen caller', async () => {
    const verifier = createTokenVerifier(config.jwt, () => nowS * 1000);
    const token = signToken({ roles: ['viewer'], claims: { iat: nowS, exp: nowS + 300 }, expiresInS: NaN });
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.roles) && Object.isFrozen(first.teams)).toBe(true);
  });

  test('at its exp the cached entry is not used: the token is checked again, and refused once past the tolerance', async () => {
    const clock = { ms: nowS * 1000 };
    const verifier = createTokenVerifier(config.jwt, () => clock.ms);
    const token = signToken({ roles: ['viewer'], claims: { iat: nowS, exp: nowS + 60 }, expiresInS: NaN });
    const first = await verifier.verify(token);
    clock.ms = (nowS + 60) * 1000 - 1;
    expect(await verifier.verify(token)).toBe(first);
    clock.ms = (nowS + 60) * 1000; // exp reached: within the 30 s tolerance, so verified afresh, not from the cache
    const again = await verifier.verify(token);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    clock.ms = (nowS + 90) * 1000;
    await expect(verifier.verify(token)).rejects.toMatchObject({ details: [{ reason: 'expired' }] });
  });

  test('a token that differs by one byte of signature is never answered from the cache', async () => {
    const verifier = createTokenVerifier(config.jwt, () => nowS * 1000);
    const token = signToken({ roles: ['admin'], claims: { iat: nowS, exp: nowS + 300 }, expiresInS: NaN });
    await verifier.verify(token);
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    await expect(verifier.verify(`${token.slice(0, -1)}${last}`)).rejects.toMatchObject({
      details: [{ reason: 'bad_signature' }],
    });
  });

  test('a gateway started with another secret (a rotated JWT_SECRET) has none of the old entries', async () => {
    const old = createTokenVerifier(config.jwt, () => nowS * 1000);
    const token = signToken({ roles: ['viewer'], claims: { iat: nowS, exp: nowS + 300 }, expiresInS: NaN });
    await old.verify(token);
    const rotated = createTokenVerifier(
      loadConfig({ JWT_SECRET: 'r'.repeat(48), JWT_ISSUER: TEST_ISSUER, JWT_AUDIENCE: TEST_AUDIENCE }).jwt,
      () => nowS * 1000,
    );
    await expect(rotated.verify(token)).rejects.toMatchObject({ details: [{ reason: 'bad_signature' }] });
  });

  test('with a cache of size 0 every request is verified afresh', async () => {
    const verifier = createTokenVerifier(config.jwt, () => nowS * 1000, { cacheSize: 0 });
    const token = signToken({ roles: ['viewer'], claims: { iat: nowS, exp: nowS + 300 }, expiresInS: NaN });
    expect(await verifier.verify(token)).not.toBe(await verifier.verify(token));
  });
});

describe('the token verifier with a JWKS endpoint', () => {
  const first = rsaKeyPair();
  const second = rsaKeyPair();
  let keys: { kid: string; pem: string }[] = [];
  let fetches = 0;
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      const body = {
        keys: keys.map(({ kid, pem }) => ({
          ...createPublicKey(pem).export({ format: 'jwk' }),
          kid,
          use: 'sig',
          alg: 'RS256',
        })),
      };
      res.setHeader('content-type', 'application/json').end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => server.close());

  const nowS = Math.floor(Date.now() / 1000);
  const setup = () => {
    keys = [{ kid: 'k1', pem: first.publicKey }];
    const clock = { ms: nowS * 1000 };
    const config = loadConfig({
      JWT_JWKS_URL: url,
      JWT_JWKS_CACHE_TTL_S: '600',
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
    });
    return { clock, verifier: createTokenVerifier(config.jwt, () => clock.ms) };
  };
  const signed = (pair: { privateKey: string }, kid: string) =>
    signToken({
      roles: ['viewer'],
      secret: pair.privateKey,
      algorithm: 'RS256',
      header: { kid },
      claims: { iat: nowS, exp: nowS + 3000 },
      expiresInS: NaN,
    });

  test('a cached token is checked again once the key set is due for a refetch, and refused when its key is gone', async () => {
    const { clock, verifier } = setup();
    const token = signed(first, 'k1');
    const principal = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(principal);
    keys = [{ kid: 'k2', pem: second.publicKey }]; // the provider rotated k1 out
    clock.ms += 600_000; // JWT_JWKS_CACHE_TTL_S
    await expect(verifier.verify(token)).rejects.toMatchObject({ details: [{ reason: 'unknown_key' }] });
  });

  test('a refetch brought by another token (a new kid) drops the entries verified with the old set', async () => {
    const { clock, verifier } = setup();
    const token = signed(first, 'k1');
    const principal = await verifier.verify(token);
    keys = [
      { kid: 'k1', pem: first.publicKey },
      { kid: 'k2', pem: second.publicKey },
    ];
    clock.ms += 10_000; // the refetch cooldown
    const before = fetches;
    await verifier.verify(signed(second, 'k2'));
    expect(fetches).toBe(before + 1);
    const again = await verifier.verify(token); // k1 still published: accepted, but verified against the new set
    expect(again).not.toBe(principal);
    expect(again).toEqual(principal);
  });
});
