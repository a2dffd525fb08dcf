import { createServer, type Server } from 'node:http';
import { createPublicKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from '../helpers/harness';
import { ed25519KeyPair, rsaKeyPair, signEdDsaToken, signToken } from '../helpers/tokens';

const ed = ed25519KeyPair();
const edNext = ed25519KeyPair();
const rsa = rsaKeyPair();

describe('when the gateway verifies with an Ed25519 public key (JWT_PUBLIC_KEY, PEM)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: ed.publicKey } });
  });
  afterAll(async () => {
    h.assertNoLeaks();
    await h.close();
  });
  const get = (token: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);

  test('then an EdDSA token signed by its private key is accepted', async () => {
    expect((await get(signEdDsaToken(ed.privateKey))).status).toBe(200);
  });

  test('then an EdDSA token signed by another key is refused as bad_signature, and an RS256 one as algorithm_not_allowed', async () => {
    const other = await get(signEdDsaToken(edNext.privateKey, { roles: ['admin'] }));
    expect(other.status).toBe(401);
    expect(other.body.error.details[0].reason).toBe('bad_signature');
    const rs = await get(signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256' }));
    expect(rs.status).toBe(401);
    expect(rs.body.error.details[0].reason).toBe('algorithm_not_allowed');
  });

  test('then an EdDSA token whose signature is cut short is refused (bad_signature: jose does not tell a short signature from a wrong one)', async () => {
    const token = signEdDsaToken(ed.privateKey).replace(/\.[^.]+$/, '.AAAA');
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.body.error.details[0].reason).toBe('bad_signature');
  });
});

/** A JWKS endpoint publishing these public keys (RSA, or OKP Ed25519 as RFC 8037 writes them). */
async function startJwks(keys: { kid?: string; pem: string }[]) {
  const server: Server = createServer((_req, res) => {
    const body = {
      keys: keys.map(({ kid, pem }) => ({ ...createPublicKey(pem).export({ format: 'jwk' }), kid, use: 'sig' })),
    };
    res.setHeader('content-type', 'application/json').end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` };
}

describe('when a JWKS holds several keys, Ed25519 and RSA, as during a rotation', () => {
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  let h: Harness;
  beforeAll(async () => {
    jwks = await startJwks([
      { kid: 'ed-old', pem: ed.publicKey },
      { kid: 'ed-new', pem: edNext.publicKey },
      { kid: 'rsa-1', pem: rsa.publicKey },
    ]);
    h = await startHarness({ env: { JWT_SECRET: '', JWT_JWKS_URL: jwks.url } });
  });
  afterAll(async () => {
    await h.close();
    jwks.server.close();
  });
  const get = (token: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);

  test('then an EdDSA token naming its kid is accepted (EdDSA is in the JWKS default allowlist)', async () => {
    expect((await get(signEdDsaToken(edNext.privateKey, { header: { kid: 'ed-new' } }))).status).toBe(200);
  });

  test('then a token without kid is tried against the keys of its algorithm and accepted by the one that signed it', async () => {
    expect((await get(signEdDsaToken(ed.privateKey))).status).toBe(200);
    expect((await get(signEdDsaToken(edNext.privateKey))).status).toBe(200);
    expect((await get(signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256' }))).status).toBe(200);
  });

  test('then a token without kid that no published key of its algorithm verifies is refused as bad_signature', async () => {
    const res = await get(signEdDsaToken(ed25519KeyPair().privateKey, { roles: ['admin'] }));
    expect(res.status).toBe(401);
    expect(res.body.error.details[0].reason).toBe('bad_signature');
  });

  test('then a token naming an Ed25519 kid but claiming RS256 is refused as algorithm_not_allowed', async () => {
    const res = await get(
      signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256', header: { kid: 'ed-old' } }),
    );
    expect(res.status).toBe(401);
    expect(res.body.error.details[0].reason).toBe('algorithm_not_allowed');
  });
});
