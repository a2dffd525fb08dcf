import { createPublicKey, sign as cryptoSign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from '../helpers/harness';
import { ecKeyPair, forgeToken, issuedTokens, rsaKeyPair, signToken, standardClaims } from '../helpers/tokens';
import { forgeHmac } from './support';

/**
 * Attacks on the token's header: the verifier must take its algorithm and key only from the server's own
 * configuration, never from what the token says (alg, jwk, jku, x5u, x5c, kid). Cases already covered by
 * test/auth/{jwt,keys}.test.ts (alg none/None, RS256→HS256 with a static key, zeroed ES256) are not repeated.
 */

const idp = rsaKeyPair();
const attacker = rsaKeyPair();
const ec = ecKeyPair();

/** A local server playing "elsewhere": whatever a token points at. It must never be asked anything. */
async function listen(handler: (req: IncomingMessage) => unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const body = handler(req);
    res.setHeader('content-type', 'application/json').end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const attackerJwk = {
  ...createPublicKey(attacker.publicKey).export({ format: 'jwk' }),
  kid: 'k1',
  use: 'sig',
  alg: 'RS256',
};
const byAttacker = (header: Record<string, unknown>, roles = ['admin']) =>
  signToken({ roles, secret: attacker.privateKey, algorithm: 'RS256', header: { alg: 'RS256', ...header } });

let elsewhere: { server: Server; url: string };
const elsewhereHits: string[] = [];
beforeAll(async () => {
  elsewhere = await listen((req) => {
    elsewhereHits.push(req.url ?? '');
    return { keys: [attackerJwk] };
  });
});
afterAll(() => elsewhere.server.close());

const get = (h: Harness, token: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);

async function expectRefused(h: Harness, token: string, reasons: string[]) {
  const res = await get(h, token);
  expect(res.status).toBe(401);
  expect(res.body.error.code).toBe('invalid_token');
  expect(reasons).toContain(res.body.error.details[0].reason);
  expect(h.simulator.requests).toHaveLength(0);
}

describe('when the gateway verifies with a static HS256 secret', () => {
  let h: Harness;
  beforeAll(async () => (h = await startHarness()));
  afterAll(async () => {
    h.assertNoLeaks();
    await h.close();
  });
  beforeEach(() => h.simulator.clearRequests());

  test.each([
    ['NONE', { alg: 'NONE' }],
    ['nOnE', { alg: 'nOnE' }],
    ['none with a signature', { alg: 'none' }],
    ['an empty alg', { alg: '' }],
    ['no alg at all', {}],
    ['a made-up alg', { alg: 'HS256 ' }],
  ])('a token with alg %s is refused, and nothing is forwarded', async (label, header) => {
    const signature = label.includes('with a signature') ? Buffer.alloc(32, 1).toString('base64url') : '';
    await expectRefused(h, forgeToken({ typ: 'JWT', ...header }, standardClaims(), signature), [
      'algorithm_not_allowed',
      'malformed',
    ]);
  });

  test('a token signed with an empty HMAC key (the key /dev/null would give) is refused', async () => {
    await expectRefused(h, forgeHmac({ alg: 'HS256', typ: 'JWT' }, standardClaims(), Buffer.alloc(0)), [
      'bad_signature',
    ]);
  });
});

describe('when the gateway verifies with a static RSA public key', () => {
  let h: Harness;
  beforeAll(async () => (h = await startHarness({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: idp.publicKey } })));
  afterAll(async () => {
    h.assertNoLeaks();
    await h.close();
  });
  beforeEach(() => h.simulator.clearRequests());

  test('a token carrying its own key in a jwk header is verified with the configured key, so it is refused', async () => {
    await expectRefused(h, byAttacker({ jwk: attackerJwk }), ['bad_signature']);
  });

  test('a token pointing at keys elsewhere (jku, x5u, x5c) is refused and nothing is fetched from there', async () => {
    const token = byAttacker({
      jku: `${elsewhere.url}/jwks.json`,
      x5u: `${elsewhere.url}/cert.pem`,
      x5c: [Buffer.from('not a cert').toString('base64')],
      kid: 'k1',
    });
    await expectRefused(h, token, ['bad_signature']);
    expect(elsewhereHits).toEqual([]);
  });

  test('an HS512 token using the PEM public key as its HMAC secret is refused', async () => {
    const token = forgeHmac({ alg: 'HS512', typ: 'JWT' }, standardClaims(), Buffer.from(idp.publicKey));
    await expectRefused(h, token, ['algorithm_not_allowed']);
  });

  test('a PS256 token signed by the right key is refused: the allowlist is RS256 only', async () => {
    await expectRefused(h, signToken({ roles: ['admin'], secret: idp.privateKey, algorithm: 'PS256' }), [
      'algorithm_not_allowed',
    ]);
  });
});

describe('when the gateway verifies against a JWKS endpoint', () => {
  let h: Harness;
  let jwks: { server: Server; url: string };
  const jwksHits: string[] = [];
  beforeAll(async () => {
    jwks = await listen((req) => {
      jwksHits.push(req.url ?? '');
      return {
        keys: [{ ...createPublicKey(idp.publicKey).export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' }],
      };
    });
    h = await startHarness({ env: { JWT_SECRET: '', JWT_JWKS_URL: `${jwks.url}/jwks.json` } });
  });
  afterAll(async () => {
    h.assertNoLeaks();
    await h.close();
    jwks.server.close();
  });
  beforeEach(() => h.simulator.clearRequests());

  test('a token signed by the published key is accepted (the set-up works)', async () => {
    const res = await get(
      h,
      signToken({ roles: ['viewer'], secret: idp.privateKey, algorithm: 'RS256', header: { kid: 'k1' } }),
    );
    expect(res.status).toBe(200);
  });

  test.each([
    ['a path traversal', '../../dev/null'],
    ['a deeper traversal', '../../../../../../etc/passwd'],
    ['an encoded traversal', '..%2f..%2fdev%2fnull'],
    ['SQL injection', "' OR 1=1 --"],
    ['SQL injection after a real kid', "k1' OR '1'='1"],
    ['a NUL byte', 'k1\u0000'],
    ['a URL', 'http://127.0.0.1:1/keys'],
    ['a very long kid', 'k'.repeat(4000)],
  ])('a kid holding %s is refused as unknown_key, and the JWKS is the only place asked', async (_label, kid) => {
    await expectRefused(h, byAttacker({ kid }), ['unknown_key']);
    expect(jwksHits.filter((path) => path !== '/jwks.json')).toEqual([]);
  });

  test('a kid whose key file would be empty cannot make an HMAC check with an empty key', async () => {
    await expectRefused(h, forgeHmac({ alg: 'HS256', kid: '../../dev/null' }, standardClaims(), Buffer.alloc(0)), [
      'algorithm_not_allowed',
    ]);
  });

  test('an HS256 token using the published public key (PEM or JWK JSON) as its secret is refused', async () => {
    await expectRefused(h, forgeHmac({ alg: 'HS256', kid: 'k1' }, standardClaims(), Buffer.from(idp.publicKey)), [
      'algorithm_not_allowed',
    ]);
    const jwkJson = JSON.stringify(createPublicKey(idp.publicKey).export({ format: 'jwk' }));
    await expectRefused(h, forgeHmac({ alg: 'HS256', kid: 'k1' }, standardClaims(), Buffer.from(jwkJson)), [
      'algorithm_not_allowed',
    ]);
  });

  test('a token with a real kid but its own jwk, jku and x5u is verified with the published key only, and elsewhere is never asked', async () => {
    const token = byAttacker({
      kid: 'k1',
      jwk: attackerJwk,
      jku: `${elsewhere.url}/jwks.json`,
      x5u: `${elsewhere.url}/x.pem`,
    });
    await expectRefused(h, token, ['bad_signature']);
    const unknownKid = byAttacker({ kid: 'attacker', jku: `${elsewhere.url}/jwks.json` });
    await expectRefused(h, unknownKid, ['unknown_key']);
    expect(elsewhereHits).toEqual([]);
    expect(jwksHits.filter((path) => path !== '/jwks.json')).toEqual([]);
  });
});

describe('when the gateway verifies ES256 tokens (CVE-2022-21449, "psychic signatures")', () => {
  let h: Harness;
  beforeAll(async () => (h = await startHarness({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: ec.publicKey } })));
  afterAll(async () => {
    h.assertNoLeaks();
    await h.close();
  });
  beforeEach(() => h.simulator.clearRequests());

  // The P-256 group order n: r = s = n is the other encoding of zero Java accepted.
  const N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
  const withSignature = (signature: Buffer) =>
    signToken({ roles: ['admin'], secret: ec.privateKey, algorithm: 'ES256' }).replace(
      /\.[^.]+$/,
      `.${signature.toString('base64url')}`,
    );

  test.each([
    ['r = s = n', Buffer.concat([N, N])],
    ['r = 0, s = n', Buffer.concat([Buffer.alloc(32), N])],
    ['r = s = 0 in DER instead of JOSE form', Buffer.from('3006020100020100', 'hex')],
    ['a one-byte signature', Buffer.from([0])],
    ['r = s = 1', Buffer.concat([Buffer.alloc(31), Buffer.from([1]), Buffer.alloc(31), Buffer.from([1])])],
  ])('a signature with %s is refused', async (_label, signature) => {
    await expectRefused(h, withSignature(signature), ['bad_signature', 'malformed']);
  });

  test('a valid ES256 signature is accepted (the set-up works)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(standardClaims({ roles: ['viewer'] }))).toString('base64url');
    const signature = cryptoSign('sha256', Buffer.from(`${header}.${payload}`), {
      key: ec.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    const token = `${header}.${payload}.${signature.toString('base64url')}`;
    issuedTokens.push(token);
    expect((await get(h, token)).status).toBe(200);
  });
});
