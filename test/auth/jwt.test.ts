import jwt from 'jsonwebtoken';
import { startHarness, type Harness } from '../helpers/harness';
import { rawRequest } from '../helpers/raw-request';
import { forgeToken, rsaKeyPair, signToken, standardClaims, TEST_SECRET } from '../helpers/tokens';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { JWT_MAX_LIFETIME_S: '3600', JWT_CLOCK_TOLERANCE_S: '30' } });
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
beforeEach(() => h.simulator.clearRequests());

const now = () => Math.floor(Date.now() / 1000);
const call = (authorization?: string) => {
  const req = h.api().get('/v1/applications');
  return authorization === undefined ? req : req.set('Authorization', authorization);
};

describe('when no usable credentials are sent', () => {
  test.each([
    ['no Authorization header', undefined],
    ['a Basic header', 'Basic YWxpY2U6cHc='],
    ['a DeveloperKey header', 'DeveloperKey some-key'],
    ['Bearer with nothing', 'Bearer '],
    ['Bearer with junk', 'Bearer not-a-jwt'],
  ])('%s, then 401 unauthenticated and nothing forwarded', async (_label, header) => {
    const res = await call(header);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('a token in the query string or a cookie, then it is ignored (401)', async () => {
    const token = signToken({ roles: ['admin'] });
    const res = await h.api().get(`/v1/applications?access_token=${token}`).set('Cookie', `token=${token}`);
    expect(res.status).toBe(401);
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('two Authorization headers, then 401 (proxies disagree on which one counts)', async () => {
    const token = signToken({ roles: ['admin'] });
    const res = await rawRequest(h.gatewayUrl, 'GET', '/v1/applications', [
      ['Authorization', `Bearer ${token}`],
      ['Authorization', `Bearer ${token}`],
    ]);
    expect(res.status).toBe(401);
    expect(h.simulator.requests).toHaveLength(0);
  });
});

describe('when the token is refused, then 401 invalid_token with a stable reason', () => {
  const rsa = rsaKeyPair();
  test.each<[string, () => string, string]>([
    ['expired', () => signToken({ roles: ['admin'], claims: { exp: now() - 120 }, expiresInS: NaN }), 'expired'],
    [
      'expired just beyond the clock tolerance',
      () => signToken({ roles: ['admin'], claims: { exp: now() - 31 }, expiresInS: NaN }),
      'expired',
    ],
    ['not yet valid (nbf)', () => signToken({ roles: ['admin'], claims: { nbf: now() + 120 } }), 'not_yet_valid'],
    ['issued in the future', () => signToken({ roles: ['admin'], claims: { iat: now() + 600 } }), 'issued_in_future'],
    ['without exp', () => signToken({ roles: ['admin'], expiresInS: NaN }), 'missing_exp'],
    [
      'living longer than JWT_MAX_LIFETIME_S',
      () => signToken({ roles: ['admin'], expiresInS: 7200 }),
      'lifetime_too_long',
    ],
    ['from the wrong issuer', () => signToken({ roles: ['admin'], issuer: 'https://evil.test/' }), 'wrong_issuer'],
    ['for the wrong audience', () => signToken({ roles: ['admin'], audience: 'another-service' }), 'wrong_audience'],
    [
      'with a bad signature',
      () => signToken({ roles: ['admin'], secret: 'a-different-secret-of-32-bytes-or-more!!' }),
      'bad_signature',
    ],
    ['with a tampered payload', () => tamper(signToken({ roles: ['viewer'] })), 'bad_signature'],
    ['with alg none', () => forgeToken({ alg: 'none', typ: 'JWT' }, standardClaims()), 'algorithm_not_allowed'],
    ['with alg None', () => forgeToken({ alg: 'None', typ: 'JWT' }, standardClaims()), 'algorithm_not_allowed'],
    [
      'RS256-signed when only HS256 is allowed',
      () => signToken({ roles: ['admin'], secret: rsa.privateKey, algorithm: 'RS256' }),
      'algorithm_not_allowed',
    ],
    [
      'HS384 when only HS256 is allowed',
      () => signToken({ roles: ['admin'], secret: TEST_SECRET, algorithm: 'HS384' }),
      'algorithm_not_allowed',
    ],
    ['with an empty signature', () => signToken({ roles: ['admin'] }).replace(/\.[^.]+$/, '.'), 'bad_signature'],
    ['without sub', () => forgeSigned({ sub: undefined }), 'missing_sub'],
    [
      'naming a critical header extension',
      () => signToken({ roles: ['admin'], header: { alg: 'HS256', crit: ['exp'] } }),
      'unsupported_critical_header',
    ],
    [
      'expiring decades from now',
      () => signToken({ roles: ['admin'], claims: { exp: now() + 40 * 365 * 86400 }, expiresInS: NaN }),
      'lifetime_too_long',
    ],
  ])('%s', async (_label, make, reason) => {
    const res = await call(`Bearer ${make()}`);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_token', details: [{ reason }] });
    expect(res.headers['www-authenticate']).toContain('invalid_token');
    expect(h.simulator.requests).toHaveLength(0);
  });
});

describe('when the token is valid', () => {
  test('expired by less than the clock tolerance, then it is accepted', async () => {
    const res = await call(`Bearer ${signToken({ roles: ['viewer'], claims: { exp: now() - 10 }, expiresInS: NaN })}`);
    expect(res.status).toBe(200);
  });

  test('with no roles claim, then the caller is known but forbidden (403 no_roles_in_token)', async () => {
    const res = await call(`Bearer ${signToken({})}`);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'forbidden', details: [{ reason: 'no_roles_in_token' }] });
    expect(h.simulator.requests).toHaveLength(0);
  });

  test('with roles as a space-separated string, then each role counts', async () => {
    const res = await h
      .api()
      .get('/v1/me')
      .set('Authorization', `Bearer ${signToken({ roles: 'viewer auditor' })}`);
    expect(res.body.roles).toEqual(['viewer', 'auditor']);
  });

  test('with the scheme in lower case, then it is accepted', async () => {
    expect((await call(`bearer ${signToken({ roles: ['viewer'] })}`)).status).toBe(200);
  });
});

test('when the token is longer than 8 KiB, then it is refused before any verification', async () => {
  const token = signToken({ roles: ['admin'], claims: { pad: 'x'.repeat(9000) } });
  const res = await call(`Bearer ${token}`);
  expect(res.status).toBe(401);
  expect(res.body.error.details[0].reason).toBe('malformed');
});

function tamper(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims.roles = ['admin'];
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

function forgeSigned(override: Record<string, unknown>): string {
  const claims = standardClaims(override);
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return jwt.sign(claims, TEST_SECRET, { algorithm: 'HS256' });
}
