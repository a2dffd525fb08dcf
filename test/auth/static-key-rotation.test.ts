import { createTokenVerifier } from '../../src/auth/verifier';
import { loadConfig } from '../../src/config/load';
import { startHarness, type Harness } from '../helpers/harness';
import {
  ed25519KeyPair,
  rsaKeyPair,
  signEdDsaToken,
  signToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_SECRET,
} from '../helpers/tokens';

/**
 * Rotating a configured JWT key without a moment where good tokens fail (docs/operations.md, Rotation without
 * downtime): the new key becomes JWT_SECRET / JWT_PUBLIC_KEY and the old one is kept in JWT_SECRETS_PREVIOUS /
 * JWT_PUBLIC_KEYS_PREVIOUS until tokens signed with it have expired; then it is removed and they are refused.
 */
const NEW_SECRET = 'the-new-hs256-secret-of-at-least-32-bytes!';
const base = { JWT_ISSUER: TEST_ISSUER, JWT_AUDIENCE: TEST_AUDIENCE };
const reasonOf = (err: unknown) => (err as { details?: { reason: string }[] }).details?.[0]?.reason;
const refusal = (promise: Promise<unknown>) => promise.then(() => 'accepted', reasonOf);

describe('rotating JWT_SECRET with JWT_SECRETS_PREVIOUS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { JWT_SECRET: NEW_SECRET, JWT_SECRETS_PREVIOUS: TEST_SECRET } });
  });
  afterAll(async () => h.close());

  test('during the overlap a token signed with either secret is served; after it, the old one is refused', async () => {
    const old = signToken({ roles: ['viewer'], secret: TEST_SECRET, claims: { teams: ['demo'] } });
    const fresh = signToken({ roles: ['viewer'], secret: NEW_SECRET, claims: { teams: ['demo'] } });
    for (const token of [old, fresh])
      await h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`).expect(200);

    const after = createTokenVerifier(loadConfig({ ...base, JWT_SECRET: NEW_SECRET }).jwt);
    expect(await refusal(after.verify(fresh))).toBe('accepted');
    expect(await refusal(after.verify(old))).toBe('bad_signature');
    // A third secret was never configured: refused during the overlap too.
    const stranger = signToken({ roles: ['admin'], secret: 'someone-elses-secret-of-at-least-32-bytes' });
    await h.api().get('/v1/applications').set('Authorization', `Bearer ${stranger}`).expect(401);
  });
});

describe('rotating JWT_PUBLIC_KEY with JWT_PUBLIC_KEYS_PREVIOUS', () => {
  const rsa = rsaKeyPair();
  const olderRsa = rsaKeyPair();
  const ed = ed25519KeyPair();
  const overlap = {
    ...base,
    JWT_PUBLIC_KEY: ed.publicKey,
    JWT_PUBLIC_KEYS_PREVIOUS: rsa.publicKey + olderRsa.publicKey,
  };

  test('from RSA to Ed25519: tokens of the old key, of a key kept before it and of the new key all verify', async () => {
    const verifier = createTokenVerifier(loadConfig(overlap).jwt);
    const tokens = [
      signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256' }),
      signToken({ roles: ['viewer'], secret: olderRsa.privateKey, algorithm: 'RS256' }),
      signEdDsaToken(ed.privateKey),
    ];
    for (const token of tokens) expect(await refusal(verifier.verify(token))).toBe('accepted');
  });

  test('key confusion stays refused: an HS256 token keyed with a kept public key is not allowed', async () => {
    const verifier = createTokenVerifier(loadConfig(overlap).jwt);
    const token = signToken({ roles: ['admin'], secret: rsa.publicKey, algorithm: 'HS256' });
    expect(await refusal(verifier.verify(token))).toBe('algorithm_not_allowed');
  });

  test('after the overlap the old key is refused, and an allowlist that leaves a kept key out refuses to start', () => {
    const after = createTokenVerifier(loadConfig({ ...base, JWT_PUBLIC_KEY: ed.publicKey }).jwt);
    const old = signToken({ roles: ['viewer'], secret: rsa.privateKey, algorithm: 'RS256' });
    return Promise.all([
      expect(refusal(after.verify(old))).resolves.toBe('algorithm_not_allowed'),
      expect(() => createTokenVerifier(loadConfig({ ...overlap, JWT_ALGORITHMS: 'EdDSA' }).jwt)).toThrow(
        /JWT_ALGORITHMS: RS256|JWT_PUBLIC_KEYS_PREVIOUS \(key 1\)/,
      ),
    ]);
  });

  test('a kept key without a current one, or a kept block that is not a key, is refused at start-up', () => {
    expect(() => loadConfig({ ...base, JWT_SECRETS_PREVIOUS: TEST_SECRET })).toThrow(
      /JWT_SECRETS_PREVIOUS is kept beside a current JWT_SECRET/,
    );
    expect(() =>
      loadConfig({ ...base, JWT_JWKS_URL: 'https://idp.example/jwks', JWT_PUBLIC_KEYS_PREVIOUS: rsa.publicKey }),
    ).toThrow(/JWT_PUBLIC_KEYS_PREVIOUS is kept beside a current JWT_PUBLIC_KEY/);
    const broken = rsa.publicKey.replace(/[A-Za-z0-9]{10}\n/, 'not-base64!\n');
    expect(() =>
      createTokenVerifier(loadConfig({ ...base, JWT_PUBLIC_KEY: ed.publicKey, JWT_PUBLIC_KEYS_PREVIOUS: broken }).jwt),
    ).toThrow(/JWT_PUBLIC_KEYS_PREVIOUS \(key 1\): not a PEM public key/);
  });
});
