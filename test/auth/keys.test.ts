import { createServer, type Server } from 'node:http';
import { createPublicKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier } from '../../src/auth/verifier';
import { startHarness, type Harness } from '../helpers/harness';
import { ecKeyPair, rsaKeyPair, signToken } from '../helpers/tokens';

const rsa = rsaKeyPair();
const ec = ecKeyPair();

describe('when the gateway verifies with an RSA public key', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: rsa.publicKey } });
  });
  afterAll(async () => {
    h.assertNoLeaks();
    await h.close();
  });

  test('an RS256 token signed by the private key is accepted', async () => {
    const token = signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256' });
    expect((await h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });

  test('an HS256 token using the public key as its secret (key confusion) is refused', async () => {
    h.simulator.clearRequests();
    const token = signToken({ roles: ['admin'], secret: rsa.publicKey, algorithm: 'HS256' });
    const res = await h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.error.details[0].reason).toBe('algorithm_not_allowed');
    expect(h.simulator.requests).toHaveLength(0);
  });
});

describe('when the gateway verifies with an EC public key', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: ec.publicKey } });
  });
  afterAll(async () => h.close());

  test('an ES256 token is accepted and an RS256 one refused', async () => {
    const good = signToken({ roles: ['viewer'], secret: ec.privateKey, algorithm: 'ES256' });
    const bad = signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256' });
    expect((await h.api().get('/v1/applications').set('Authorization', `Bearer ${good}`)).status).toBe(200);
    expect((await h.api().get('/v1/applications').set('Authorization', `Bearer ${bad}`)).status).toBe(401);
  });

  test('an ES256 token whose signature is all zeros (psychic signature) is refused', async () => {
    const token = signToken({ roles: ['admin'], secret: ec.privateKey, algorithm: 'ES256' });
    const zeroed = token.replace(/\.[^.]+$/, `.${Buffer.alloc(64).toString('base64url')}`);
    const res = await h.api().get('/v1/applications').set('Authorization', `Bearer ${zeroed}`);
    expect(res.status).toBe(401);
    expect(res.body.error.details[0].reason).toBe('bad_signature');
  });
});

/** A local identity provider: its JWKS endpoint publishes `keys` and counts the fetches. */
async function startIdentityProvider(initial: { kid: string; pem: string }[]) {
  const idp = { keys: initial, fetches: 0, published: true, url: '', server: undefined as unknown as Server };
  idp.server = createServer((_req, res) => {
    idp.fetches++;
    if (!idp.published) return void res.writeHead(503).end();
    const body = {
      keys: idp.keys.map(({ kid, pem }) => ({
        ...createPublicKey(pem).export({ format: 'jwk' }),
        kid,
        use: 'sig',
        alg: 'RS256',
      })),
    };
    res.setHeader('content-type', 'application/json').end(JSON.stringify(body));
  });
  await new Promise<void>((r) => idp.server.listen(0, '127.0.0.1', r));
  idp.url = `http://127.0.0.1:${(idp.server.address() as AddressInfo).port}/jwks.json`;
  return idp;
}

/** A gateway whose token verifier (JWKS cache and cooldown included) reads a clock the test moves. */
function gatewayWithClock(env: Record<string, string>) {
  const clock = { ms: Date.now() };
  const started = startHarness({
    env: { JWT_SECRET: '', ...env },
    deps: (deps) => ({ ...deps, verifier: createTokenVerifier(deps.config.jwt, () => clock.ms) }),
  });
  return { clock, started };
}

// The refetch cooldown of src/auth/jwks.ts.
const COOLDOWN_MS = 10_000;

describe('when the gateway verifies against a JWKS endpoint', () => {
  const second = rsaKeyPair();
  let idp: Awaited<ReturnType<typeof startIdentityProvider>>;
  let h: Harness;
  let clock: { ms: number };
  beforeAll(async () => {
    idp = await startIdentityProvider([{ kid: 'k1', pem: rsa.publicKey }]);
    const g = gatewayWithClock({ JWT_JWKS_URL: idp.url });
    clock = g.clock;
    h = await g.started;
  });
  afterAll(async () => {
    await h.close();
    idp.server.close();
  });

  const get = (token: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);

  test('a token signed with a published key is accepted, and the key is cached', async () => {
    const token = signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256', header: { kid: 'k1' } });
    expect((await get(token)).status).toBe(200);
    const before = idp.fetches;
    expect((await get(token)).status).toBe(200);
    expect(idp.fetches).toBe(before);
  });

  test('after the provider rotates to a new kid, tokens with it are accepted without a restart (once the last fetch is a cooldown old)', async () => {
    idp.keys = [...idp.keys, { kid: 'k2', pem: second.publicKey }];
    clock.ms += COOLDOWN_MS;
    const token = signToken({
      roles: ['viewer'],
      secret: second.privateKey,
      algorithm: 'RS256',
      header: { kid: 'k2' },
    });
    expect((await get(token)).status).toBe(200);
  });

  test('a token naming a kid the provider does not publish is refused as unknown_key', async () => {
    const token = signToken({
      roles: ['viewer'],
      secret: second.privateKey,
      algorithm: 'RS256',
      header: { kid: 'nope' },
    });
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.body.error.details[0].reason).toBe('unknown_key');
  });

  test('a token claiming a published kid but signed by another key is refused', async () => {
    const token = signToken({ roles: ['admin'], secret: second.privateKey, algorithm: 'RS256', header: { kid: 'k1' } });
    expect((await get(token)).body.error.details[0].reason).toBe('bad_signature');
  });

  test('a key the provider stopped publishing stops verifying at the next refetch', async () => {
    idp.keys = idp.keys.filter((k) => k.kid !== 'k1');
    clock.ms += 600_000; // JWT_JWKS_CACHE_TTL_S
    const res = await get(
      signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256', header: { kid: 'k1' } }),
    );
    expect({ status: res.status, reason: res.body.error?.details[0]?.reason }).toEqual({
      status: 401,
      reason: 'unknown_key',
    });
  });
});

describe('when someone floods the gateway with made-up kids and then the identity provider rotates its key', () => {
  const next = rsaKeyPair();
  let idp: Awaited<ReturnType<typeof startIdentityProvider>>;
  let h: Harness;
  let clock: { ms: number };
  beforeAll(async () => {
    idp = await startIdentityProvider([{ kid: 'old', pem: rsa.publicKey }]);
    const g = gatewayWithClock({ JWT_JWKS_URL: idp.url });
    clock = g.clock;
    h = await g.started;
  });
  afterAll(async () => {
    await h.close();
    idp.server.close();
  });

  const get = (token: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);
  const signed = (kid: string, privateKey = rsa.privateKey) =>
    signToken({ roles: ['viewer'], secret: privateKey, algorithm: 'RS256', header: { kid } });
  const junk = async (n: number) => {
    const reasons = new Set<string>();
    for (let i = 0; i < n; i++)
      reasons.add((await get(signed(`junk-${clock.ms}-${i}`))).body.error?.details[0]?.reason);
    return [...reasons];
  };

  test('then the junk spends at most one fetch per cooldown, and a token signed with the new key is accepted within one cooldown of the rotation', async () => {
    expect((await get(signed('old'))).status).toBe(200);
    const fetchesAtStart = idp.fetches;
    expect(await junk(30)).toEqual(['unknown_key']);

    idp.keys = [...idp.keys, { kid: 'new', pem: next.publicKey }];
    const rotatedAt = clock.ms;
    const newKeyToken = signed('new', next.privateKey);
    let accepted: number | undefined;
    // The flood goes on at every step (before the token, so it is first to ask); the clock moves 1 s at a time.
    for (let step = 0; step <= COOLDOWN_MS / 1_000 + 1 && accepted === undefined; step++) {
      expect(await junk(10)).toEqual(['unknown_key']);
      if ((await get(newKeyToken)).status === 200) accepted = clock.ms - rotatedAt;
      else clock.ms += 1_000;
    }
    expect(accepted).toBeLessThanOrEqual(COOLDOWN_MS);
    expect((await get(signed('old'))).status).toBe(200);
    // One fetch per cooldown at most, however many junk kids were sent (30 + 10 per step).
    expect(idp.fetches - fetchesAtStart).toBeLessThanOrEqual(Math.ceil((clock.ms - rotatedAt) / COOLDOWN_MS) + 1);
  });
});

describe('when the identity provider cannot be asked again', () => {
  let idp: Awaited<ReturnType<typeof startIdentityProvider>>;
  let h: Harness;
  let clock: { ms: number };
  beforeAll(async () => {
    idp = await startIdentityProvider([{ kid: 'only', pem: rsa.publicKey }]);
    const g = gatewayWithClock({ JWT_JWKS_URL: idp.url, JWT_JWKS_CACHE_TTL_S: '10' });
    clock = g.clock;
    h = await g.started;
  });
  afterAll(async () => {
    await h.close();
    idp.server.close();
  });

  test('then tokens signed with a key it published before are still accepted after the cache TTL, and junk kids change nothing', async () => {
    const token = signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256', header: { kid: 'only' } });
    const get = (t: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${t}`);
    expect((await get(token)).status).toBe(200);
    idp.published = false;
    for (let i = 0; i < 12; i++)
      await get(
        signToken({ roles: ['admin'], secret: rsa.privateKey, algorithm: 'RS256', header: { kid: `junk-${i}` } }),
      );
    clock.ms += 10_500; // past the TTL: the refetch fails, the last good key stays
    const fetchesBefore = idp.fetches;
    expect((await get(token)).status).toBe(200);
    clock.ms += COOLDOWN_MS + 1;
    expect((await get(token)).status).toBe(200);
    expect(idp.fetches - fetchesBefore).toBeGreaterThanOrEqual(1); // it did ask, and was refused
  });
});
