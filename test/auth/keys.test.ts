import { createServer, type Server } from 'node:http';
import { createPublicKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
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

describe('when the gateway verifies against a JWKS endpoint', () => {
  const second = rsaKeyPair();
  let keys: { kid: string; pem: string }[] = [{ kid: 'k1', pem: rsa.publicKey }];
  let fetches = 0;
  let jwks: Server;
  let h: Harness;

  beforeAll(async () => {
    jwks = createServer((_req, res) => {
      fetches++;
      const body = { keys: keys.map(({ kid, pem }) => ({ ...createPublicKey(pem).export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' })) };
      res.setHeader('content-type', 'application/json').end(JSON.stringify(body));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const { port } = jwks.address() as AddressInfo;
    h = await startHarness({ env: { JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` } });
  });
  afterAll(async () => {
    await h.close();
    jwks.close();
  });

  const get = (token: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);

  test('a token signed with a published key is accepted, and the key is cached', async () => {
    const token = signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256', header: { kid: 'k1' } });
    expect((await get(token)).status).toBe(200);
    const before = fetches;
    expect((await get(token)).status).toBe(200);
    expect(fetches).toBe(before);
  });

  test('after the provider rotates to a new kid, tokens with it are accepted without a restart', async () => {
    keys = [...keys, { kid: 'k2', pem: second.publicKey }];
    const token = signToken({ roles: ['viewer'], secret: second.privateKey, algorithm: 'RS256', header: { kid: 'k2' } });
    expect((await get(token)).status).toBe(200);
  });

  test('a token naming a kid the provider does not publish is refused as unknown_key', async () => {
    const token = signToken({ roles: ['viewer'], secret: second.privateKey, algorithm: 'RS256', header: { kid: 'nope' } });
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.body.error.details[0].reason).toBe('unknown_key');
  });

  test('a token claiming a published kid but signed by another key is refused', async () => {
    const token = signToken({ roles: ['admin'], secret: second.privateKey, algorithm: 'RS256', header: { kid: 'k1' } });
    expect((await get(token)).body.error.details[0].reason).toBe('bad_signature');
  });
});

describe('when the identity provider cannot be asked again', () => {
  let published = true;
  let jwks: Server;
  let h: Harness;
  beforeAll(async () => {
    jwks = createServer((_req, res) => {
      if (!published) return void res.writeHead(503).end();
      const key = { ...createPublicKey(rsa.publicKey).export({ format: 'jwk' }), kid: 'only', use: 'sig', alg: 'RS256' };
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [key] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const { port } = jwks.address() as AddressInfo;
    h = await startHarness({ env: { JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, JWT_JWKS_CACHE_TTL_S: '10' } });
  });
  afterAll(async () => {
    await h.close();
    jwks.close();
  });

  test('then tokens signed with a key it published before are still accepted after the cache TTL, and junk kids change nothing', async () => {
    const token = signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256', header: { kid: 'only' } });
    const get = (t: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${t}`);
    expect((await get(token)).status).toBe(200);
    published = false;
    for (let i = 0; i < 12; i++) await get(signToken({ roles: ['admin'], secret: rsa.privateKey, algorithm: 'RS256', header: { kid: `junk-${i}` } }));
    await new Promise((r) => setTimeout(r, 10_500));
    expect((await get(token)).status).toBe(200);
  }, 20_000);
});
