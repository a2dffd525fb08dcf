import { allEntries } from '../helpers/audit';
import { Browser, CSRF, startWithSignIn, type SignInSetup } from '../helpers/sign-in';

/**
 * Issue 24's sign-in hardening, against the development IdP (oidc-provider) and the real gateway: the sign-in
 * steps count against the failed-authentication limit per address, the token endpoint has a global budget, a
 * sign-in transaction is used once on the server, each failed sign-in is one `decision` entry, and "sign out
 * everywhere" ends all of a person's sessions. Each test signs in from its own address (X-Forwarded-For behind
 * TRUST_PROXY=loopback), so one test's spent budget is not another's.
 */
const FAILED_AUTH_LIMIT = 5;
const TOKEN_CALLS_PER_MINUTE = 30;

let setup: SignInSetup;
beforeAll(async () => {
  setup = await startWithSignIn({
    env: {
      RATE_LIMIT_UNAUTHENTICATED: String(FAILED_AUTH_LIMIT),
      OIDC_TOKEN_CALLS_PER_MINUTE: String(TOKEN_CALLS_PER_MINUTE),
      TRUST_PROXY: 'loopback',
    },
  });
});
afterAll(() => setup.close());
const gw = () => setup.gateways[0]!;
let lastOctet = 10;
const newAddress = () => `203.0.113.${lastOctet++}`;

/** A browser at its own address. */
function browserAt(address: string): Browser {
  const browser = new Browser(gw().gatewayUrl);
  browser.gatewayHeaders = { 'X-Forwarded-For': address };
  return browser;
}

/** A sign-in started at the gateway and answered with a junk code, as an attacker replays the callback. */
async function junkCallback(browser: Browser, i: number): Promise<Response> {
  const login = await browser.fetch(`${gw().gatewayUrl}/auth/login`);
  const state = login.status === 302 ? new URL(login.headers.get('location')!).searchParams.get('state') : 'none';
  const query = new URLSearchParams({ code: `junk-code-${i}`, state: state ?? '', iss: setup.idp.issuer });
  return browser.fetch(`${gw().gatewayUrl}/auth/callback?${query}`);
}

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; details: { reason: string }[] } }).error;

test("when one address sends 40 sign-in callbacks with junk codes, then the IdP's token endpoint is called at most the failed-auth limit's worth of times, and the rest are refused 429 before any call", async () => {
  const browser = browserAt(newAddress());
  const before = setup.idp.tokenRequests();
  const statuses: number[] = [];
  const reasons: string[] = [];
  for (let i = 0; i < 40; i++) {
    const res = await junkCallback(browser, i);
    statuses.push(res.status);
    reasons.push((await errorOf(res)).details[0]!.reason);
  }
  // The first FAILED_AUTH_LIMIT reach the token endpoint (which refuses the junk code); none after.
  expect(setup.idp.tokenRequests() - before).toBe(FAILED_AUTH_LIMIT);
  expect(reasons.slice(0, FAILED_AUTH_LIMIT)).toEqual(Array(FAILED_AUTH_LIMIT).fill('token_request_refused'));
  expect(statuses.slice(FAILED_AUTH_LIMIT)).toEqual(Array(40 - FAILED_AUTH_LIMIT).fill(429));
  expect(new Set(reasons.slice(FAILED_AUTH_LIMIT))).toEqual(new Set(['unauthenticated_budget_exhausted']));

  // The address cannot even start a sign-in now; another address can.
  const start = await browser.fetch(`${gw().gatewayUrl}/auth/login`);
  expect(start.status).toBe(429);
  expect(start.headers.get('retry-after')).toMatch(/^\d+$/);
  const elsewhere = await browserAt(newAddress()).signIn('editor');
  expect(elsewhere.res!.status).toBe(303);
});

test('when each sign-in fails, then each counted failure is one decision entry with its reason and no code or state, and failures past the limit add none', async () => {
  const address = newAddress();
  const forged = browserAt(address);
  const { callbackUrl } = await forged.signIn('admin', { stopBeforeCallback: true });
  const url = new URL(callbackUrl);
  url.searchParams.set('state', 'not-the-state-this-browser-was-given');
  expect(await errorOf(await forged.fetch(url.href))).toMatchObject({ details: [{ reason: 'invalid_response' }] });
  const stranger = browserAt(address);
  expect(await errorOf(await stranger.fetch(callbackUrl))).toMatchObject({
    details: [{ reason: 'no_sign_in_in_progress' }],
  });
  for (let i = 0; i < 10; i++) await junkCallback(browserAt(address), i);

  const entries = (await allEntries(gw())).filter((e) => e.clientIp === address);
  expect(entries.map((e) => [e.kind, e.operation, e.errorCode, e.outcome])).toEqual(
    Array(FAILED_AUTH_LIMIT).fill(['decision', 'session.sign_in', 'sign_in_failed', 'invalid']),
  );
  expect(entries.map((e) => (e.details as { errors: { reason: string }[] }).errors[0]!.reason)).toEqual([
    'invalid_response',
    'no_sign_in_in_progress',
    'token_request_refused',
    'token_request_refused',
    'token_request_refused',
  ]);
  for (const e of entries) {
    expect(e.path).toBe('/auth/callback');
    expect(e.actorSub).toBeNull();
  }
});

test('when a copied sign-in cookie comes back a second time, then the second sign-in is refused before the IdP is called, and makes no session', async () => {
  const owner = browserAt(newAddress());
  const { callbackUrl } = await owner.signIn('admin', { stopBeforeCallback: true });
  const copy = browserAt(newAddress());
  copy.setCookie(gw().gatewayUrl, 'kgw-login', owner.cookie(gw().gatewayUrl, 'kgw-login')!);
  expect((await owner.fetch(callbackUrl)).status).toBe(303);
  expect(owner.cookie(gw().gatewayUrl, 'kgw-session')).toBeDefined();

  const sessions = await gw().gateway.database.prisma.browserSession.count();
  const calls = setup.idp.tokenRequests();
  const replay = await copy.fetch(callbackUrl);
  expect(replay.status).toBe(400);
  expect(await errorOf(replay)).toMatchObject({ code: 'sign_in_failed', details: [{ reason: 'sign_in_replayed' }] });
  expect(setup.idp.tokenRequests()).toBe(calls);
  expect(await gw().gateway.database.prisma.browserSession.count()).toBe(sessions);
  expect(copy.cookie(gw().gatewayUrl, 'kgw-session')).toBeUndefined();
});

test("when a person signs out everywhere, then every one of their browser sessions ends on the next request, someone else's does not, and the trail says how many", async () => {
  const laptop = browserAt(newAddress());
  const phone = browserAt(newAddress());
  const colleague = browserAt(newAddress());
  await laptop.signIn('auditor');
  await phone.signIn('auditor');
  await colleague.signIn('viewer');
  for (const b of [laptop, phone, colleague])
    expect((await b.fetch(`${gw().gatewayUrl}/v1/me`, { headers: CSRF })).status).toBe(200);

  const withoutCsrf = await phone.fetch(`${gw().gatewayUrl}/v1/me/sessions/end`, { method: 'POST' });
  expect(withoutCsrf.status).toBe(403);
  const ended = await phone.fetch(`${gw().gatewayUrl}/v1/me/sessions/end`, { method: 'POST', headers: CSRF });
  expect(ended.status).toBe(200);
  expect(await ended.json()).toEqual({ sessions_ended: 2 });
  expect(ended.headers.getSetCookie()).toEqual(['kgw-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict']);

  const after = await laptop.fetch(`${gw().gatewayUrl}/v1/me`, { headers: CSRF });
  expect(after.status).toBe(401);
  expect(await errorOf(after)).toMatchObject({ details: [{ reason: 'session_ended' }] });
  expect((await colleague.fetch(`${gw().gatewayUrl}/v1/me`, { headers: CSRF })).status).toBe(200);
  const entries = (await allEntries(gw())).filter((e) => e.operation === 'session.sign_out_everywhere');
  // The attempt without the CSRF header is refused and recorded by the one refusal recorder; then the one that ran.
  expect(entries.map((e) => [e.kind, e.actorSub, e.outcome, e.errorCode])).toEqual([
    ['decision', 'auditor', 'invalid', 'csrf_header_missing'],
    ['access', 'auditor', 'success', null],
  ]);
  const entry = entries[1];
  expect(entry!.details).toMatchObject({ sessions_ended: 2, credential: 'browser_session' });
});

test('when failed sign-ins come from many addresses, then the trail records at most RATE_LIMIT_SIGN_IN_FAILURES_RECORDED of them a window, and every one is refused alike', async () => {
  const capped = await startWithSignIn({
    env: { RATE_LIMIT_SIGN_IN_FAILURES_RECORDED: '3', RATE_LIMIT_WINDOW_S: '3600', TRUST_PROXY: 'loopback' },
  });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${capped.gateways[0]!.gatewayUrl}/auth/callback?code=c&state=s`, {
        headers: { 'X-Forwarded-For': `198.51.100.${i + 1}` },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual(Array(6).fill(400));
    const recorded = (await allEntries(capped.gateways[0]!)).filter((e) => e.operation === 'session.sign_in');
    expect(recorded.map((e) => e.clientIp)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
  } finally {
    await capped.close();
  }
});

test("when sign-ins come from many addresses, then the token endpoint's global budget stops them at OIDC_TOKEN_CALLS_PER_MINUTE a minute, before the IdP is called", async () => {
  let refused: Response | undefined;
  for (let i = 0; i < TOKEN_CALLS_PER_MINUTE + 5 && !refused; i++) {
    const calls = setup.idp.tokenRequests();
    const res = await junkCallback(browserAt(newAddress()), i);
    if (res.status === 429) {
      refused = res;
      expect(setup.idp.tokenRequests()).toBe(calls);
    }
  }
  expect(refused).toBeDefined();
  expect(await errorOf(refused!)).toMatchObject({
    code: 'rate_limited',
    details: [{ reason: 'token_endpoint_budget_exhausted' }],
  });
  expect(refused!.headers.get('retry-after')).toMatch(/^\d+$/);
});
