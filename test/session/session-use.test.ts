import { SERVER_URL } from '../helpers/database';
import { allEntries } from '../helpers/audit';
import { Browser, CSRF, startWithSignIn, type SignInSetup } from '../helpers/sign-in';

let setup: SignInSetup;
beforeAll(async () => {
  setup = await startWithSignIn({ env: { CORS_ORIGINS: 'https://console.example.test' } });
});
afterAll(() => setup.close());
const gw = () => setup.gateways[0]!;

async function signedIn(login: string): Promise<{ browser: Browser; cookie: string }> {
  const browser = new Browser(gw().gatewayUrl);
  await browser.signIn(login);
  return { browser, cookie: `kgw-session=${browser.cookie(gw().gatewayUrl, 'kgw-session')}` };
}

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

test('when a cookie-authenticated POST comes without X-Requested-With (a cross-site form), then it is refused 403, nothing reaches the upstream, and the trail records the refusal', async () => {
  const { cookie } = await signedIn('editor');
  const upstreamBefore = gw().simulator.requests.length;
  const res = await fetch(`${gw().gatewayUrl}/v1/applications`, {
    method: 'POST',
    headers: {
      cookie,
      'content-type': 'application/x-www-form-urlencoded',
      origin: 'https://evil.example',
      'x-request-id': 'csrf-post-1',
    },
    body: 'name=Evil',
  });
  expect(res.status).toBe(403);
  expect(await errorCode(res)).toBe('csrf_header_missing');
  expect(gw().simulator.requests.length).toBe(upstreamBefore);
  const wrongValue = await fetch(`${gw().gatewayUrl}/v1/applications`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-requested-with': 'XMLHttpRequest' },
    body: '{"name":"Evil"}',
  });
  expect(wrongValue.status).toBe(403);
  expect(gw().simulator.requests.length).toBe(upstreamBefore);
  const [entry] = (await allEntries(gw())).filter((e) => e.clientRequestId === 'csrf-post-1');
  expect(entry).toMatchObject({
    kind: 'decision',
    operation: 'applications.create',
    actorSub: 'editor',
    errorCode: 'csrf_header_missing',
    outcome: 'invalid',
  });
  expect(entry!.details).toMatchObject({
    credential: 'browser_session',
    session_fingerprint: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
  });
});

test('when a cookie-authenticated read comes without the header, then it is refused too', async () => {
  const { cookie } = await signedIn('viewer');
  const res = await fetch(`${gw().gatewayUrl}/v1/applications`, { headers: { cookie } });
  expect(res.status).toBe(403);
  expect(await errorCode(res)).toBe('csrf_header_missing');
  const session = await fetch(`${gw().gatewayUrl}/auth/session`, { headers: { cookie } });
  expect(session.status).toBe(403);
});

test('when a signed-in browser creates an application, then policy, ownership and the trail see the same person as a bearer token would, marked as a browser session', async () => {
  const { browser } = await signedIn('editor');
  const created = await browser.fetch(`${gw().gatewayUrl}/v1/applications`, {
    method: 'POST',
    headers: { ...CSRF, 'content-type': 'application/json', 'x-request-id': 'session-create-1' },
    body: '{"name":"From the browser"}',
  });
  expect(created.status).toBe(201);
  const app = (await created.json()) as { id: string };
  const owner = await gw().deps.ownership.store.ownerOf(app.id);
  expect(owner?.team).toBe('demo');
  const entries = (await allEntries(gw())).filter((e) => e.clientRequestId === 'session-create-1');
  expect(entries.map((e) => e.kind)).toEqual(['request', 'response']);
  for (const e of entries) {
    expect(e).toMatchObject({
      actorSub: 'editor',
      actorRoles: ['editor'],
      actorJti: null,
      actorIssuer: setup.idp.issuer,
      team: 'demo',
    });
    expect(e.details).toMatchObject({
      credential: 'browser_session',
      session_fingerprint: gw().deps.audit.keys.fingerprint(browser.cookie(gw().gatewayUrl, 'kgw-session')!),
    });
  }
  // The editor may not delete: the same policy answers as for a token.
  const refused = await browser.fetch(`${gw().gatewayUrl}/v1/applications/${app.id}`, {
    method: 'DELETE',
    headers: CSRF,
  });
  expect(refused.status).toBe(403);
  expect(await errorCode(refused)).toBe('forbidden');
  // Another team's editor does not see it.
  const other = await signedIn('other-editor');
  const hidden = await other.browser.fetch(`${gw().gatewayUrl}/v1/applications/${app.id}`, { headers: CSRF });
  expect(hidden.status).toBe(404);
});

test('when a signed-in admin deletes an application, then the two-person rule applies and a second signed-in admin approves it', async () => {
  const { browser: ada } = await signedIn('admin');
  const created = await ada.fetch(`${gw().gatewayUrl}/v1/applications`, {
    method: 'POST',
    headers: { ...CSRF, 'content-type': 'application/json' },
    body: '{"name":"To delete"}',
  });
  const app = (await created.json()) as { id: string };
  const asked = await ada.fetch(`${gw().gatewayUrl}/v1/applications/${app.id}`, { method: 'DELETE', headers: CSRF });
  expect(asked.status).toBe(202);
  const { approval } = (await asked.json()) as { approval: { id: string } };
  const { browser: bo } = await signedIn('admin2');
  const approved = await bo.fetch(`${gw().gatewayUrl}/v1/approvals/${approval.id}/approve`, {
    method: 'POST',
    headers: { ...CSRF, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(approved.status).toBe(200);
  expect(
    gw()
      .simulator.store.listApplications()
      .map((a) => a.id),
  ).not.toContain(app.id);
  const approvalEntries = (await allEntries(gw())).filter(
    (e) => e.approvalId === approval.id && e.actorSub === 'admin2',
  );
  expect(approvalEntries.length).toBeGreaterThan(0);
  expect(approvalEntries[0]!.details).toMatchObject({ credential: 'browser_session' });
});

test('when the session cookie is tampered with, unknown, or carries a bearer-looking value, then the call is 401 and nothing is forwarded', async () => {
  const { cookie } = await signedIn('admin');
  const value = cookie.split('=')[1]!;
  const before = gw().simulator.requests.length;
  for (const bad of [
    `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`,
    'x'.repeat(43),
    'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
    '',
  ]) {
    const res = await fetch(`${gw().gatewayUrl}/v1/applications`, {
      headers: { ...CSRF, cookie: `kgw-session=${bad}` },
    });
    expect(res.status).toBe(401);
  }
  expect(gw().simulator.requests.length).toBe(before);
});

test('when a session is past its absolute lifetime or idle too long, then it is 401 and its row is gone', async () => {
  const prisma = gw().gateway.database.prisma;
  for (const column of ['expires_at', 'last_seen_at']) {
    const { browser, cookie } = await signedIn('viewer');
    expect((await browser.fetch(`${gw().gatewayUrl}/v1/me`, { headers: CSRF })).status).toBe(200);
    const shift = column === 'expires_at' ? "now() - interval '1 second'" : "now() - interval '1801 seconds'";
    const sub = 'viewer';
    await prisma.$executeRawUnsafe(`UPDATE browser_sessions SET ${column} = ${shift} WHERE sub = $1`, sub);
    const res = await fetch(`${gw().gatewayUrl}/v1/me`, { headers: { ...CSRF, cookie } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: { code: 'unauthenticated', details: [{ reason: 'session_ended' }] },
    });
    await prisma.browserSession.deleteMany({ where: { sub } });
  }
});

test('when a bearer token and a session cookie arrive together, then the bearer token decides (a cookie never upgrades a request)', async () => {
  const { cookie } = await signedIn('admin');
  const res = await fetch(`${gw().gatewayUrl}/v1/me`, {
    headers: { ...CSRF, cookie, authorization: 'Bearer not.a.token' },
  });
  expect(res.status).toBe(401);
  expect(await errorCode(res)).toBe('invalid_token');
});

test('when a CORS origin preflights a request with X-Requested-With, then the header is not allowed and no credentials are granted', async () => {
  const res = await fetch(`${gw().gatewayUrl}/v1/applications`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://console.example.test',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'x-requested-with,content-type',
    },
  });
  expect(res.headers.get('access-control-allow-origin')).toBe('https://console.example.test');
  expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).not.toContain('x-requested-with');
  expect(res.headers.get('access-control-allow-credentials')).toBeNull();
});

test('when logout is posted without the CSRF header, then it is refused and the session lives on', async () => {
  const { browser, cookie } = await signedIn('viewer');
  const res = await fetch(`${gw().gatewayUrl}/auth/logout`, { method: 'POST', headers: { cookie } });
  expect(res.status).toBe(403);
  expect((await browser.fetch(`${gw().gatewayUrl}/v1/me`, { headers: CSRF })).status).toBe(200);
});

const withPostgres = SERVER_URL ? test : test.skip;

withPostgres(
  'when a browser logs out on one instance, then replaying its old cookie is 401 on every instance',
  async () => {
    const two = await startWithSignIn({ instances: 2 });
    try {
      const [a, b] = two.gateways as [(typeof two.gateways)[0], (typeof two.gateways)[0]];
      const browser = new Browser(a.gatewayUrl);
      await browser.signIn('editor');
      const cookie = `kgw-session=${browser.cookie(a.gatewayUrl, 'kgw-session')}`;
      for (const g of [a, b])
        expect((await fetch(`${g.gatewayUrl}/v1/me`, { headers: { ...CSRF, cookie } })).status).toBe(200);
      const out = await browser.fetch(`${a.gatewayUrl}/auth/logout`, { method: 'POST', headers: CSRF });
      expect(out.status).toBe(200);
      expect(out.headers.getSetCookie()).toEqual(['kgw-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict']);
      for (const g of [a, b]) {
        const replay = await fetch(`${g.gatewayUrl}/v1/applications`, { headers: { ...CSRF, cookie } });
        expect(replay.status).toBe(401);
      }
      const session = await fetch(`${b.gatewayUrl}/auth/session`, { headers: { ...CSRF, cookie } });
      expect(await session.json()).toEqual({ authenticated: false, login_url: '/auth/login' });
    } finally {
      await two.close();
    }
  },
);
