import jwt from 'jsonwebtoken';
import { createTokenVerifier } from '../../src/auth/verifier';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { issuedTokens, signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';
import { APP, forgeHmac, sendRaw } from './support';

/**
 * Time claims at their exact edges, on a gateway whose verifier reads a fixed clock (so "exactly at the
 * tolerance" means exactly), and where a token may and may not be carried. The coarse cases (expired by
 * minutes, nbf/iat far ahead, wrong iss/aud, missing exp) are in test/auth/jwt.test.ts.
 */

const TOLERANCE_S = 30;
const MAX_LIFETIME_S = 3600;
const NOW_S = Math.floor(Date.now() / 1000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    env: { JWT_CLOCK_TOLERANCE_S: String(TOLERANCE_S), JWT_MAX_LIFETIME_S: String(MAX_LIFETIME_S) },
    deps: (deps) => ({ ...deps, verifier: createTokenVerifier(deps.config.jwt, () => NOW_S * 1000) }),
  });
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
beforeEach(() => h.simulator.clearRequests());

const token = (claims: Record<string, unknown>) =>
  signToken({ roles: ['viewer'], claims: { iat: NOW_S - 60, exp: NOW_S + 600, ...claims }, expiresInS: NaN });
const call = (t: string) => h.api().get('/v1/applications').set('Authorization', `Bearer ${t}`);

describe('when a time claim sits at the edge of the clock tolerance', () => {
  test.each<[string, string, () => string]>([
    ['exp one second inside the tolerance', 'accepted', () => token({ exp: NOW_S - TOLERANCE_S + 1 })],
    ['exp exactly at the tolerance', 'expired', () => token({ exp: NOW_S - TOLERANCE_S })],
    ['exp one second past the tolerance', 'expired', () => token({ exp: NOW_S - TOLERANCE_S - 1 })],
    ['nbf one second inside the tolerance', 'accepted', () => token({ nbf: NOW_S + TOLERANCE_S - 1 })],
    ['nbf exactly at the tolerance', 'accepted', () => token({ nbf: NOW_S + TOLERANCE_S })],
    ['nbf one second past the tolerance', 'not_yet_valid', () => token({ nbf: NOW_S + TOLERANCE_S + 1 })],
    ['iat one second inside the tolerance', 'accepted', () => token({ iat: NOW_S + TOLERANCE_S - 1 })],
    ['iat exactly at the tolerance', 'accepted', () => token({ iat: NOW_S + TOLERANCE_S })],
    ['iat one second past the tolerance', 'issued_in_future', () => token({ iat: NOW_S + TOLERANCE_S + 1 })],
    [
      'a lifetime of exactly JWT_MAX_LIFETIME_S',
      'accepted',
      () => token({ iat: NOW_S - 10, exp: NOW_S - 10 + MAX_LIFETIME_S }),
    ],
    [
      'a lifetime one second longer',
      'lifetime_too_long',
      () => token({ iat: NOW_S - 10, exp: NOW_S - 10 + MAX_LIFETIME_S + 1 }),
    ],
    ['no iat while JWT_MAX_LIFETIME_S is set', 'lifetime_too_long', withoutIat],
    ['exp as a string', 'malformed', () => raw({ exp: String(NOW_S + 600) })],
    ['nbf as a string', 'malformed', () => raw({ nbf: String(NOW_S - 10) })],
    ['exp as a float just past the tolerance', 'expired', () => raw({ exp: NOW_S - TOLERANCE_S - 0.5 })],
  ])('%s, then %s', async (_label, reason, make) => {
    const res = await call(make());
    if (reason === 'accepted') {
      expect(res.status).toBe(200);
    } else {
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: 'invalid_token', details: [{ reason }] });
      expect(h.simulator.requests).toHaveLength(0);
    }
  });
});

/** Claims jsonwebtoken's sign() would refuse to put in a token. */
const raw = (claims: Record<string, unknown>) =>
  forgeHmac(
    { alg: 'HS256', typ: 'JWT' },
    {
      sub: 'raw',
      roles: ['viewer'],
      iss: TEST_ISSUER,
      aud: TEST_AUDIENCE,
      iat: NOW_S - 60,
      exp: NOW_S + 600,
      ...claims,
    },
    TEST_SECRET,
  );

/** jsonwebtoken adds iat by itself; a token without one must be asked for. */
function withoutIat(): string {
  const t = jwt.sign(
    { sub: 'no-iat', roles: ['viewer'], iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: NOW_S + 600 },
    TEST_SECRET,
    { algorithm: 'HS256', noTimestamp: true },
  );
  issuedTokens.push(t);
  return t;
}

describe('when a token travels anywhere but one Authorization: Bearer header', () => {
  const admin = () => signToken({ roles: ['admin'], claims: { iat: NOW_S - 60, exp: NOW_S + 600 }, expiresInS: NaN });

  test('a mutation with the token in the query string and a cookie is refused (401), not forwarded and not recorded', async () => {
    const t = admin();
    const before = (await allEntries(h)).length;
    const res = await h
      .api()
      .post(`/v1/applications/${APP}/webhooks?access_token=${t}&token=${t}`)
      .set('Cookie', `access_token=${t}; token=${t}`)
      .send({ url: 'https://hooks.example.com/q' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
    expect(h.simulator.requests).toHaveLength(0);
    expect((await allEntries(h)).length).toBe(before);
  });

  test.each<[string, [string, string][]]>([
    [
      'the same header twice in different case',
      [
        ['Authorization', 'Bearer T'],
        ['AUTHORIZATION', 'Bearer T'],
      ],
    ],
    [
      'an empty one before a valid one',
      [
        ['Authorization', ''],
        ['Authorization', 'Bearer T'],
      ],
    ],
    [
      'a Basic one after a valid one',
      [
        ['authorization', 'Bearer T'],
        ['Authorization', 'Basic YTpi'],
      ],
    ],
  ])('two Authorization headers (%s) are refused', async (_label, headers) => {
    const t = admin();
    const res = await sendRaw(
      h,
      'GET',
      '/v1/applications',
      headers.map(([n, v]) => [n, v.replace('T', t)] as [string, string]),
    );
    expect(res.status).toBe(401);
    expect(h.simulator.requests).toHaveLength(0);
  });

  test.each([
    ['two tokens in one header', (t: string) => `Bearer ${t}, Bearer ${t}`],
    ['a token with trailing junk', (t: string) => `Bearer ${t} x`],
    ['a token with a fourth segment', (t: string) => `Bearer ${t}.AAAA`],
    ['a token in the Proxy-Authorization slot only', null],
  ])('%s is refused', async (_label, make) => {
    const t = admin();
    const req = h.api().get('/v1/applications');
    const res = make ? await req.set('Authorization', make(t)) : await req.set('Proxy-Authorization', `Bearer ${t}`);
    expect(res.status).toBe(401);
    expect(h.simulator.requests).toHaveLength(0);
  });
});
