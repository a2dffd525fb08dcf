import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';
import { createTokenVerifier } from '../../src/auth/verifier';
import { rsaKeyPair } from '../helpers/tokens';
import { PRODUCTION, problemsOf } from '../helpers/config';

test('when nothing is set outside production, then defaults apply and the config is frozen', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    env: 'development',
    port: 8080,
    host: '127.0.0.1',
    upstream: { baseUrl: 'https://api.kloudless.com/v1', timeoutMs: 10000 },
  });
  expect(config.upstream.developerKey).toBeUndefined();
  expect(Object.isFrozen(config.upstream)).toBe(true);
});

test('when production is complete, then it loads', () => {
  expect(problemsOf(PRODUCTION)).toEqual([]);
});

test('when AUDIT_HMAC_KEYS lists earlier keys by newline or comma, then each is kept, and in production each must be at least 32 bytes', () => {
  const older = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];
  expect(
    loadConfig({ ...PRODUCTION, AUDIT_HMAC_KEYS: `${older[0]}\n${older[1]}, ${older[2]}\n` }).audit.hmacKeys,
  ).toEqual(older);
  expect(loadConfig({}).audit.hmacKeys).toEqual([]);
  expect(problemsOf({ ...PRODUCTION, AUDIT_HMAC_KEYS: `${older[0]},short` })).toEqual([
    'every key in AUDIT_HMAC_KEYS must be at least 32 bytes in production',
  ]);
});

test('when production settings are missing or weak, then every problem is listed at once', () => {
  const problems = problemsOf({
    NODE_ENV: 'production',
    JWT_SECRET: 'short',
    KLOUDLESS_API_URL: 'http://api.example.com/v1',
    TRUST_PROXY: 'true',
  });
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/KLOUDLESS_DEVELOPER_KEY .* required/),
      expect.stringMatching(/KLOUDLESS_API_URL must be https/),
      expect.stringMatching(/JWT_SECRET must be at least 32 bytes/),
      expect.stringMatching(/JWT_ISSUER is required/),
      expect.stringMatching(/JWT_AUDIENCE is required/),
      expect.stringMatching(/TRUST_PROXY=true/),
      expect.stringMatching(/DATABASE_URL is required in production/),
      expect.stringMatching(/AUDIT_HMAC_KEY \(or _FILE\) is required in production/),
      expect.stringMatching(/AUDIT_SIGNING_KEY \(or _FILE\) is required in production/),
    ]),
  );
});

test.each([
  ['a port out of range', { PORT: '70000' }, /PORT/],
  [
    'an audit signing key that is not Ed25519',
    {
      AUDIT_SIGNING_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    },
    /AUDIT_SIGNING_KEY is a ec key, not Ed25519/,
  ],
  [
    'an audit signing key that is no key',
    { AUDIT_SIGNING_KEY: 'not a key' },
    /AUDIT_SIGNING_KEY is not a PEM private key/,
  ],
  ['an audit log origin with a space', { AUDIT_LOG_ORIGIN: 'my log' }, /AUDIT_LOG_ORIGIN/],
  ['a clock tolerance over 60 s', { JWT_CLOCK_TOLERANCE_S: '120' }, /JWT_CLOCK_TOLERANCE_S/],
  ['an unknown log level', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ['a non-URL upstream', { KLOUDLESS_API_URL: 'api.kloudless.com' }, /KLOUDLESS_API_URL/],
  ['two key sources', { JWT_SECRET: 'a'.repeat(32), JWT_JWKS_URL: 'https://idp/jwks' }, /only one of/],
  ['a malformed TRUST_PROXY', { TRUST_PROXY: 'everyone' }, /TRUST_PROXY/],
])('when the config has %s, then it is refused', (_label, env, message) => {
  expect(problemsOf(env as Record<string, string>).join('\n')).toMatch(message);
});

test('when a secret comes from a *_FILE, then it is read and its trailing newline dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'key'), 'dk-from-file\n');
  expect(loadConfig({ KLOUDLESS_DEVELOPER_KEY_FILE: join(dir, 'key') }).upstream.developerKey).toBe('dk-from-file');
  expect(problemsOf({ KLOUDLESS_DEVELOPER_KEY_FILE: join(dir, 'absent') }).join()).toMatch(/cannot read .*ENOENT/);
  expect(problemsOf({ KLOUDLESS_DEVELOPER_KEY_FILE: join(dir, 'key'), KLOUDLESS_DEVELOPER_KEY: 'x' }).join()).toMatch(
    /not both/,
  );
});

test('when TRUST_PROXY names proxies or a hop count, then it is passed to Express as such', () => {
  expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
  expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  expect(loadConfig({}).trustProxy).toBe(false);
});

describe('JWT key configuration', () => {
  const rsa = rsaKeyPair();
  test('when JWT_ALGORITHMS does not fit an RSA key, then start-up fails (no HS/RS confusion possible)', () => {
    const config = loadConfig({ JWT_PUBLIC_KEY: rsa.publicKey, JWT_ALGORITHMS: 'HS256' });
    expect(() => createTokenVerifier(config.jwt)).toThrow(/HS256 cannot be used with this key/);
  });
  test('when JWT_ALGORITHMS names RS256 for a shared secret, then start-up fails', () => {
    const config = loadConfig({ JWT_SECRET: 'a'.repeat(32), JWT_ALGORITHMS: 'RS256' });
    expect(() => createTokenVerifier(config.jwt)).toThrow(/RS256 cannot be used/);
  });
  test('when JWT_PUBLIC_KEY is not PEM, then start-up fails', () => {
    const config = loadConfig({ JWT_PUBLIC_KEY: 'not a key' });
    expect(() => createTokenVerifier(config.jwt)).toThrow(/not a PEM public key/);
  });
  test('when JWT_PUBLIC_KEY has escaped newlines (as in a .env file), then it loads', () => {
    const config = loadConfig({ JWT_PUBLIC_KEY: rsa.publicKey.replace(/\n/g, '\\n') });
    expect(() => createTokenVerifier(config.jwt)).not.toThrow();
  });
});

describe('a production configuration copied from .env.example', () => {
  test('when settings still hold its example values, then start-up refuses, naming each one (and showing no secret)', () => {
    const problems = problemsOf({
      ...PRODUCTION,
      AUDIT_WITNESS_URLS: 'https://witness.example.com/',
      AUDIT_WITNESS_KEYS: 'witness.example.com+571fce53+BJDNcIvJGlTbQqW/DsHFysU/w9Y9U6cJz/DiQLIkvuV3',
      AUDIT_LOG_ORIGIN: 'gateway.example.com/audit',
      KLOUDLESS_DEVELOPER_KEY: 'change-me',
    });
    const kept = problems.filter((p) => p.includes('still holds the example value from .env.example'));
    expect(kept.map((p) => p.split(' ')[0]).sort()).toEqual([
      'AUDIT_LOG_ORIGIN',
      'AUDIT_WITNESS_KEYS',
      'AUDIT_WITNESS_URLS',
      'KLOUDLESS_DEVELOPER_KEY',
    ]);
    expect(kept.find((p) => p.startsWith('AUDIT_WITNESS_URLS'))).toContain('(https://witness.example.com/)');
    expect(kept.find((p) => p.startsWith('KLOUDLESS_DEVELOPER_KEY'))).not.toContain('change-me');
  });

  test('when .env.example is used as it is, then only its commented-out lines differ from the defaults, and outside production it loads', () => {
    const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const active = Object.fromEntries(
      [...text.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    ) as Record<string, string>;
    expect(Object.keys(active).some((k) => k.endsWith('_FILE'))).toBe(false);
    expect(problemsOf(active)).toEqual([]);
    expect(problemsOf({ ...PRODUCTION, ...active })).toEqual([]);
  });
});
