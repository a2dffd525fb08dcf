import { startDevIdentityProvider, type DevIdentityProvider } from '../../src/dev/identity-provider';
import { createTestDatabase, DEFAULT_BACKEND, type TestDatabase } from '../helpers/database';
import { startHarness, type Harness } from '../helpers/harness';
import { Browser, CSRF, freePort, SESSION_SECRET } from '../helpers/sign-in';

/**
 * Rotating OIDC_CLIENT_SECRET (docs/operations.md, Rotation without downtime): the identity provider gets the new
 * secret, the replicas restart with it. Sessions are the gateway's, not the IdP's: one signed in before the
 * rotation keeps working; sign-in works with the new secret; a replica left on the old secret refuses sign-in with
 * a stable code instead of failing some other way.
 */
const OLD = 'the-old-oidc-client-secret-0123456789';
const NEW = 'the-new-oidc-client-secret-9876543210';

describe('rotating OIDC_CLIENT_SECRET', () => {
  let database: TestDatabase;
  let idp: DevIdentityProvider | undefined;
  let gateway: Harness | undefined;
  let idpPort: number;
  let gatewayPort: number;
  const origin = () => `http://127.0.0.1:${gatewayPort}`;

  const startIdp = async (clientSecret: string) => {
    await idp?.close();
    idp = await startDevIdentityProvider({
      env: 'test',
      port: idpPort,
      clientSecret,
      redirectUris: [`${origin()}/auth/callback`],
      postLogoutRedirectUris: [`${origin()}/app/`],
    });
  };
  const startGateway = async (clientSecret: string) => {
    await gateway?.close();
    gateway = await startHarness({
      database,
      env: {
        PORT: String(gatewayPort),
        OIDC_ISSUER: (idp as DevIdentityProvider).issuer,
        OIDC_CLIENT_ID: (idp as DevIdentityProvider).clientId,
        OIDC_CLIENT_SECRET: clientSecret,
        OIDC_REDIRECT_URI: `${origin()}/auth/callback`,
        SESSION_SECRET,
      },
    });
  };
  const me = (browser: Browser) => browser.fetch(`${origin()}/v1/me`, { headers: CSRF });

  beforeAll(async () => {
    [idpPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
    database = await createTestDatabase(DEFAULT_BACKEND);
  });
  afterAll(async () => {
    await gateway?.close();
    await idp?.close();
    await database.drop();
  });

  test('when the IdP and the replicas move to a new client secret, then sessions survive and sign-in works; a replica on the old secret refuses sign-in with sign_in_failed', async () => {
    await startIdp(OLD);
    await startGateway(OLD);
    const before = new Browser(origin());
    expect((await before.signIn('ada')).res?.status).toBe(303);
    expect((await me(before)).status).toBe(200);

    // The rotation: the IdP holds the new secret, the replica restarts with it (same database, same session secret).
    await startIdp(NEW);
    await startGateway(NEW);
    const kept = await me(before);
    expect(kept.status).toBe(200);
    expect(((await kept.json()) as { sub: string }).sub).toBe('ada');
    const after = new Browser(origin());
    expect((await after.signIn('grace')).res?.status).toBe(303);
    expect((await me(after)).status).toBe(200);

    // A replica still on the old secret: the IdP refuses its code exchange, the browser gets a stable code.
    await startGateway(OLD);
    const stale = new Browser(origin());
    const res = (await stale.signIn('alan')).res as Response;
    expect(res.status).toBeGreaterThanOrEqual(400);
    const body = (await res.text()) as string;
    expect(body).toMatch(/sign_in_failed/);
    expect(body).toMatch(/token_request_refused|identity_provider_refused/);
    expect((await me(stale)).status).toBe(401);
    // The session from before the rotation is still good on this replica: sessions never depended on the secret.
    expect((await me(before)).status).toBe(200);
  }, 90_000);
});
