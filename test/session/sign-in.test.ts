import { createSealer } from '../../src/session/seal';
import { allEntries } from '../helpers/audit';
import { Browser, CSRF, SESSION_SECRET, startWithSignIn, type SignInSetup } from '../helpers/sign-in';

/** Compact JWS/JWT: three base64url parts, the first a JSON header. */
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;
const SESSION_COOKIE = /^kgw-session=([A-Za-z0-9_-]{43}); Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/;

let setup: SignInSetup;
beforeAll(async () => {
  setup = await startWithSignIn();
});
afterAll(() => setup.close());
const gw = () => setup.gateways[0]!;

test('when a person signs in through the development IdP, then the code + PKCE round trip ends in a server-side session that /auth/session and /v1 honour', async () => {
  const browser = new Browser(gw().gatewayUrl);
  const login = await browser.fetch(`${gw().gatewayUrl}/auth/login?return_to=/app/`);
  expect(login.status).toBe(302);
  const authorize = new URL(login.headers.get('location')!);
  expect(authorize.origin).toBe(setup.idp.issuer);
  expect(authorize.searchParams.get('response_type')).toBe('code');
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  expect(authorize.searchParams.get('scope')).toBe('openid profile email');

  const { res } = await browser.signIn('editor');
  expect(res!.status).toBe(303);
  expect(res!.headers.get('location')).toBe('/app/');
  expect(browser.cookie(gw().gatewayUrl, 'kgw-session')).toMatch(/^[A-Za-z0-9_-]{43}$/);

  const session = await browser.fetch(`${gw().gatewayUrl}/auth/session`, { headers: CSRF });
  expect(await session.json()).toMatchObject({
    authenticated: true,
    sub: 'editor',
    name: 'Eddie Editor',
    email: 'eddie@example.test',
    roles: ['editor'],
    teams: ['demo'],
  });
  const me = await browser.fetch(`${gw().gatewayUrl}/v1/me`, { headers: CSRF });
  expect(me.status).toBe(200);
  expect(await me.json()).toMatchObject({ sub: 'editor', roles: ['editor'], teams: ['demo'] });
  const rows = await gw().gateway.database.prisma.browserSession.findMany({ where: { sub: 'editor' } });
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.map((r) => r.idHash)).not.toContain(browser.cookie(gw().gatewayUrl, 'kgw-session'));
});

test('when sign-in completes, then the gateway sets exactly the documented cookies: the session HttpOnly, SameSite=Strict, Path=/, no Domain, and clears the sign-in cookie', async () => {
  const browser = new Browser(gw().gatewayUrl);
  const login = await browser.fetch(`${gw().gatewayUrl}/auth/login`);
  expect(login.headers.getSetCookie()).toEqual([
    expect.stringMatching(/^kgw-login=[A-Za-z0-9_-]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/),
  ]);
  const { callbackUrl } = await browser.signIn('viewer', { stopBeforeCallback: true });
  const callback = await browser.fetch(callbackUrl);
  const cookies = callback.headers.getSetCookie();
  expect(cookies).toHaveLength(2);
  expect(cookies[0]).toBe('kgw-login=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
  expect(cookies[1]).toMatch(SESSION_COOKIE);
  expect(cookies.join('\n')).not.toMatch(/Domain=/i);
});

test('when the redirect URI is https, then the cookies are __Host- prefixed and Secure', async () => {
  const https = await startWithSignIn({ redirectUri: 'https://gateway.example.test/auth/callback' });
  try {
    const browser = new Browser(https.gateways[0]!.gatewayUrl, 'https://gateway.example.test/auth/callback');
    const { res } = await browser.signIn('viewer');
    expect(res!.status).toBe(303);
    expect(res!.headers.getSetCookie()).toEqual([
      '__Host-kgw-login=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax',
      expect.stringMatching(
        /^__Host-kgw-session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; Secure; SameSite=Strict$/,
      ),
    ]);
  } finally {
    await https.close();
  }
});

test('when a browser signs in, then no response, header or log line it could see, and no column of the sessions table, holds a JWT-shaped string, the ID token or a refresh token', async () => {
  const browser = new Browser(gw().gatewayUrl);
  await browser.signIn('admin');
  await browser.fetch(`${gw().gatewayUrl}/auth/session`, { headers: CSRF });
  await browser.fetch(`${gw().gatewayUrl}/v1/me`, { headers: CSRF });
  await browser.fetch(`${gw().gatewayUrl}/v1/applications`, { headers: CSRF });
  // Every column of every session row, as text (issue 24: the ID token is not kept at rest).
  const rows = await gw().gateway.database.prisma.$queryRaw<{ row: string }[]>`
    SELECT to_jsonb(s)::text AS row FROM browser_sessions s`;
  expect(rows.length).toBeGreaterThan(0);
  for (const { row } of rows) expect(row).not.toMatch(JWT_SHAPED);
  const logout = await browser.fetch(`${gw().gatewayUrl}/auth/logout`, { method: 'POST', headers: CSRF });
  expect(logout.status).toBe(200);
  const seen = [
    ...browser.seen.map((s) => `${s.url} ${s.status} ${JSON.stringify(s.headers)} ${s.body}`),
    ...gw().logs.lines,
  ];
  expect(browser.seen.length).toBeGreaterThan(5);
  for (const text of seen) {
    expect(text).not.toMatch(JWT_SHAPED);
    expect(text).not.toMatch(/refresh_token|access_token|id_token/);
  }
  const body = JSON.parse(browser.seen.at(-1)!.body) as { end_session_url: string };
  expect(new URL(body.end_session_url).searchParams.get('id_token_hint')).toBeNull();
});

test('when a browser that already has a session (or a planted cookie) signs in, then it gets a new session id and the old one no longer works', async () => {
  const browser = new Browser(gw().gatewayUrl);
  await browser.signIn('editor');
  const first = browser.cookie(gw().gatewayUrl, 'kgw-session')!;
  await browser.signIn('editor');
  const second = browser.cookie(gw().gatewayUrl, 'kgw-session')!;
  expect(second).not.toBe(first);
  const replay = await fetch(`${gw().gatewayUrl}/v1/me`, { headers: { ...CSRF, cookie: `kgw-session=${first}` } });
  expect(replay.status).toBe(401);
  expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');

  const planted = 'A'.repeat(43);
  const victim = new Browser(gw().gatewayUrl);
  victim.setCookie(gw().gatewayUrl, 'kgw-session', planted);
  await victim.signIn('admin');
  expect(victim.cookie(gw().gatewayUrl, 'kgw-session')).not.toBe(planted);
  const attacker = await fetch(`${gw().gatewayUrl}/v1/me`, { headers: { ...CSRF, cookie: `kgw-session=${planted}` } });
  expect(attacker.status).toBe(401);
});

test("when the callback's state does not match the sign-in this browser started, then sign-in is refused and no session is made", async () => {
  const browser = new Browser(gw().gatewayUrl);
  const { callbackUrl } = await browser.signIn('admin', { stopBeforeCallback: true });
  const forged = new URL(callbackUrl);
  forged.searchParams.set('state', 'not-the-state-this-browser-was-given');
  const before = await gw().gateway.database.prisma.browserSession.count();
  const res = await browser.fetch(forged.href);
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({
    error: { code: 'sign_in_failed', details: [{ reason: 'invalid_response' }] },
  });
  expect(
    res.headers.getSetCookie().filter((c) => c.startsWith('kgw-session=') && !c.startsWith('kgw-session=;')),
  ).toEqual([]);
  expect(await gw().gateway.database.prisma.browserSession.count()).toBe(before);
});

test('when the callback comes back to a browser that started another sign-in since (login CSRF), then it is refused', async () => {
  const browser = new Browser(gw().gatewayUrl);
  const { callbackUrl } = await browser.signIn('admin', { stopBeforeCallback: true });
  await browser.fetch(`${gw().gatewayUrl}/auth/login`);
  const res = await browser.fetch(callbackUrl);
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('sign_in_failed');
  const stranger = await fetch(callbackUrl, { redirect: 'manual' });
  expect(stranger.status).toBe(400);
  expect(await stranger.json()).toMatchObject({
    error: { code: 'sign_in_failed', details: [{ reason: 'no_sign_in_in_progress' }] },
  });
});

test("when the ID token's nonce differs from the one this sign-in sent, or the PKCE verifier is wrong, then sign-in is refused", async () => {
  const sealer = createSealer(SESSION_SECRET, 'sign-in transaction');
  const refusals = [
    ['nonce', { reason: 'invalid_response', check: 'jwt_claim_comparison_failed' }],
    ['verifier', { reason: 'token_request_refused' }],
  ] as const;
  for (const [field, detail] of refusals) {
    const browser = new Browser(gw().gatewayUrl);
    const { callbackUrl } = await browser.signIn('admin', { stopBeforeCallback: true });
    const sealed = sealer.open(browser.cookie(gw().gatewayUrl, 'kgw-login')!) as Record<string, unknown>;
    browser.setCookie(gw().gatewayUrl, 'kgw-login', sealer.seal({ ...sealed, [field]: 'x'.repeat(43) }));
    const res = await browser.fetch(callbackUrl);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: Record<string, unknown>[] } };
    expect(body.error).toMatchObject({ code: 'sign_in_failed', details: [detail] });
    expect(browser.cookie(gw().gatewayUrl, 'kgw-session')).toBeUndefined();
  }
});

test('when the sign-in cookie is tampered with, then the callback refuses it', async () => {
  const browser = new Browser(gw().gatewayUrl);
  const { callbackUrl } = await browser.signIn('admin', { stopBeforeCallback: true });
  const sealed = browser.cookie(gw().gatewayUrl, 'kgw-login')!;
  browser.setCookie(gw().gatewayUrl, 'kgw-login', `${sealed.slice(0, -2)}${sealed.endsWith('AA') ? 'BB' : 'AA'}`);
  const res = await browser.fetch(callbackUrl);
  expect(await res.json()).toMatchObject({
    error: { code: 'sign_in_failed', details: [{ reason: 'sign_in_cookie_invalid' }] },
  });
});

test('when a browser signs in and out, then the trail records both with the session fingerprint, never the session id', async () => {
  const browser = new Browser(gw().gatewayUrl);
  await browser.signIn('auditor');
  const token = browser.cookie(gw().gatewayUrl, 'kgw-session')!;
  await browser.fetch(`${gw().gatewayUrl}/auth/logout`, { method: 'POST', headers: CSRF });
  const fingerprint = gw().deps.audit.keys.fingerprint(token);
  const entries = (await allEntries(gw())).filter(
    (e) => (e.details as { session_fingerprint?: string } | null)?.session_fingerprint === fingerprint,
  );
  expect(entries.map((e) => [e.operation, e.actorSub, e.outcome])).toEqual([
    ['session.sign_in', 'auditor', 'success'],
    ['session.sign_out', 'auditor', 'success'],
  ]);
  expect(entries[0]!.details).toMatchObject({ credential: 'browser_session', issuer: setup.idp.issuer });
  expect(JSON.stringify(await allEntries(gw()), (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
    token,
  );
});
