import { loadConfig } from '../../src/config/load';
import { devAccount, startDevIdentityProvider } from '../../src/dev/identity-provider';
import { applyLocalDefault } from '../../src/dev/local-default';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/sign-in';
import { PRODUCTION, problemsOf } from '../helpers/config';

const OIDC = {
  OIDC_ISSUER: 'https://idp.company.test/',
  OIDC_CLIENT_ID: 'kloudless-gateway',
  OIDC_CLIENT_SECRET: 'client-secret',
  OIDC_REDIRECT_URI: 'https://gateway.company.test/auth/callback',
  SESSION_SECRET: 's'.repeat(40),
};

test('when OIDC is configured completely in production, then it loads with the documented defaults', () => {
  const config = loadConfig({ ...PRODUCTION, ...OIDC });
  expect(config.oidc).toEqual({
    issuer: OIDC.OIDC_ISSUER,
    clientId: 'kloudless-gateway',
    clientSecret: 'client-secret',
    redirectUri: OIDC.OIDC_REDIRECT_URI,
    scopes: ['openid', 'profile', 'email'],
  });
  expect(config.session).toEqual({ secret: OIDC.SESSION_SECRET, previousSecrets: [], ttlS: 28800, idleS: 1800 });
  expect(Object.isFrozen(config.oidc)).toBe(true);
});

test('when OIDC_ISSUER is unset, then browser sign-in is off and nothing else is required', () => {
  expect(loadConfig(PRODUCTION).oidc).toBeUndefined();
});

test('when OIDC is on in production without its secrets or with http URLs, then every problem is listed', () => {
  const problems = problemsOf({
    ...PRODUCTION,
    OIDC_ISSUER: 'http://idp.company.test/',
    OIDC_CLIENT_ID: 'gw',
    OIDC_REDIRECT_URI: 'http://127.0.0.1:8080/auth/callback',
    SESSION_SECRET: 'short',
  });
  expect(problems).toEqual(
    expect.arrayContaining([
      'OIDC_CLIENT_SECRET (or _FILE) is required in production when OIDC_ISSUER is set',
      'OIDC_ISSUER must be https in production',
      'OIDC_ISSUER may be http only on 127.0.0.1, [::1] or localhost',
      'OIDC_REDIRECT_URI must be https in production (the session cookie is Secure)',
      'SESSION_SECRET must be at least 32 bytes in production',
    ]),
  );
  expect(problemsOf({ ...PRODUCTION, ...OIDC, SESSION_SECRET: '' })).toEqual([
    'SESSION_SECRET (or _FILE) is required in production when OIDC_ISSUER is set',
  ]);
});

test('when the OIDC client is incomplete or inconsistent anywhere, then start-up is refused', () => {
  expect(problemsOf({ OIDC_ISSUER: 'https://idp.company.test/' })).toEqual([
    'OIDC_CLIENT_ID is required when OIDC_ISSUER is set',
    'OIDC_REDIRECT_URI is required when OIDC_ISSUER is set',
  ]);
  expect(problemsOf({ ...OIDC, OIDC_REDIRECT_URI: 'http://gateway.company.test/auth/callback' })).toEqual([
    'OIDC_REDIRECT_URI may be http only on 127.0.0.1, [::1] or localhost',
  ]);
  expect(problemsOf({ ...OIDC, OIDC_REDIRECT_URI: 'https://gateway.company.test/callback' })).toEqual([
    'OIDC_REDIRECT_URI must end in /auth/callback, where the gateway completes sign-in',
  ]);
  expect(problemsOf({ ...OIDC, OIDC_ISSUER: 'http://idp.company.test/' })).toEqual([
    'OIDC_ISSUER may be http only on 127.0.0.1, [::1] or localhost',
  ]);
  expect(problemsOf({ ...OIDC, OIDC_SCOPES: 'profile email' })).toEqual(['OIDC_SCOPES must include openid']);
  expect(problemsOf({ ...OIDC, SESSION_TTL_S: '600', SESSION_IDLE_S: '1200' })).toEqual([
    'SESSION_IDLE_S cannot exceed SESSION_TTL_S',
  ]);
  expect(problemsOf({ ...OIDC, OIDC_CLIENT_SECRET_FILE: '/nonexistent' })).toEqual([
    'OIDC_CLIENT_SECRET: set either OIDC_CLIENT_SECRET or OIDC_CLIENT_SECRET_FILE, not both',
  ]);
});

test('when the development identity provider is asked for in production, then it refuses, and the local default never adds it there', async () => {
  await expect(
    startDevIdentityProvider({
      env: 'production',
      redirectUris: ['https://x/auth/callback'],
      postLogoutRedirectUris: [],
    }),
  ).rejects.toThrow('never runs in production');
  await expect(applyLocalDefault(loadConfig(PRODUCTION), PRODUCTION)).rejects.toThrow('never runs in production');
  // Outside production with PORT=0 the redirect URI cannot be known before listening: the simulator, no IdP.
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-local-'));
  const env = { NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir };
  const local = await applyLocalDefault(loadConfig(env), env);
  try {
    expect(local.idp).toBeUndefined();
    expect(local.config.oidc).toBeUndefined();
    expect(local.simulator).toBeDefined();
    expect(Object.keys(local.overlay).sort()).toEqual([
      'AUDIT_HMAC_KEY',
      'AUDIT_SIGNING_KEY',
      'JWT_ALGORITHMS',
      'JWT_SECRET',
      'KLOUDLESS_API_URL',
      'KLOUDLESS_DEVELOPER_KEY',
    ]);
  } finally {
    await local.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('when the local default runs on a fixed local port, then its overlay adds the development IdP and a session secret, loaded like any setting', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-local-'));
  const env = { NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: dataDir };
  const local = await applyLocalDefault(loadConfig(env), env);
  try {
    expect(local.idp).toBeDefined();
    expect(local.config.oidc?.issuer).toBe(local.idp?.issuer);
    expect(local.config.session.secret).toBe(local.overlay.SESSION_SECRET);
    // Kept in DATA_DIR: the next start has the same secrets, so sessions and the trail's keys survive a restart.
    const again = await applyLocalDefault(loadConfig(env), env);
    await again.close();
    for (const name of ['AUDIT_HMAC_KEY', 'AUDIT_SIGNING_KEY', 'JWT_SECRET', 'SESSION_SECRET'])
      expect(again.overlay[name]).toBe(local.overlay[name]);
  } finally {
    await local.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('when someone signs in at the development IdP, then the login picks the roles and teams', () => {
  expect(devAccount('admin2')).toEqual({ name: 'Bo Second-Admin', roles: ['admin'], teams: ['demo'] });
  expect(devAccount('alice:editor,viewer@demo,north')).toEqual({
    name: 'alice',
    roles: ['editor', 'viewer'],
    teams: ['demo', 'north'],
  });
  expect(devAccount('nobody')).toEqual({ name: 'nobody', roles: [], teams: [] });
  expect(devAccount('__proto__')).toEqual({ name: '__proto__', roles: [], teams: [] });
});
