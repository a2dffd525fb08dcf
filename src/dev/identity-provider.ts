import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importEsm } from '../auth/oidc/esm';
import { DEMO_TEAM } from './demo-team';

/** A person the development identity provider signs in: log in with the name, any password. */
export interface DevAccount {
  name: string;
  roles: string[];
  teams: string[];
}

/**
 * One account per role of the built-in policy, in the local default's team; two admins so one can approve what
 * the other asked (two-person rule). Any other login `name:role,role@team,team` signs in with those claims.
 */
export const DEV_ACCOUNTS: Record<string, DevAccount> = {
  admin: { name: 'Ada Admin', roles: ['admin'], teams: [DEMO_TEAM] },
  admin2: { name: 'Bo Second-Admin', roles: ['admin'], teams: [DEMO_TEAM] },
  editor: { name: 'Eddie Editor', roles: ['editor'], teams: [DEMO_TEAM] },
  viewer: { name: 'Vera Viewer', roles: ['viewer'], teams: [DEMO_TEAM] },
  auditor: { name: 'Aude Auditor', roles: ['auditor'], teams: [] },
  'other-editor': { name: 'Otto Other-Team', roles: ['editor'], teams: ['other'] },
};

const CUSTOM_LOGIN = /^([A-Za-z0-9_.-]{1,64}):([A-Za-z0-9_.:,-]{0,300})(?:@([A-Za-z0-9_.:,-]{0,600}))?$/;

export function devAccount(login: string): DevAccount {
  const known = Object.hasOwn(DEV_ACCOUNTS, login) ? DEV_ACCOUNTS[login] : undefined;
  if (known) return known;
  const custom = CUSTOM_LOGIN.exec(login);
  const split = (text: string | undefined) => (text ?? '').split(',').filter(Boolean);
  // Anyone else signs in with no role: every operation is then refused, which is worth seeing too.
  return custom
    ? { name: custom[1] as string, roles: split(custom[2]), teams: split(custom[3]) }
    : { name: login, roles: [], teams: [] };
}

export interface DevIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Calls its token endpoint has answered (code exchanges): what a flood of sign-ins costs the IdP. */
  tokenRequests(): number;
  close(): Promise<void>;
}

export interface DevIdentityProviderOptions {
  env: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1; the compose file's IdP listens on 0.0.0.0 in its own container. */
  host?: string;
  /** The issuer URL as browsers and gateways reach it; default http://127.0.0.1:<port>. */
  issuer?: string;
  /** Default: random per start (the local default hands it to its gateway in-process). */
  clientSecret?: string;
}

interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  Grant: new (init: { clientId: string; accountId: string }) => {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  };
}

/**
 * oidc-provider (an OpenID Certified provider) with its development login page, on its own loopback port, for
 * the local default and the tests: the full code + PKCE round trip with nothing else installed. Never in
 * production: its login takes any password.
 */
export async function startDevIdentityProvider(o: DevIdentityProviderOptions): Promise<DevIdentityProvider> {
  if (o.env === 'production') throw new Error('the development identity provider never runs in production');
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let tokenRequests = 0;
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.split('?')[0] === '/token') tokenRequests++;
    return handler ? handler(req, res) : res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const issuer = o.issuer ?? `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'kloudless-gateway-dev';
  const clientSecret = o.clientSecret ?? randomBytes(24).toString('base64url');
  const { default: Provider } = await importEsm<{ default: new (issuer: string, config: object) => ProviderLike }>(
    'oidc-provider',
  );
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: o.redirectUris,
        post_logout_redirect_uris: o.postLogoutRedirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [{ ...signingKey, kid: 'dev-1', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    ttl: {
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      AccessToken: 600,
      IdToken: 600,
      AuthorizationCode: 60,
    },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    claims: { openid: ['sub'], profile: ['name', 'roles', 'teams'], email: ['email', 'email_verified'] },
    async findAccount(_ctx: unknown, id: string) {
      const account = devAccount(id);
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          name: account.name,
          email: `${account.name.split(/[ :]/)[0]?.toLowerCase()}@example.test`,
          email_verified: true,
          roles: account.roles,
          teams: account.teams,
        }),
      };
    },
    // First-party client: no consent page.
    async loadExistingGrant(ctx: {
      oidc: {
        client: { clientId: string };
        session: { accountId: string; grantIdFor(id: string): string | undefined };
        result?: { consent?: { grantId?: string } };
        provider: ProviderLike & { Grant: { find(id: string): Promise<unknown> } };
      };
    }) {
      const { oidc } = ctx;
      const existing = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
      if (existing) return oidc.provider.Grant.find(existing);
      const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
  });
  handler = provider.callback();
  return {
    issuer,
    clientId,
    clientSecret,
    tokenRequests: () => tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The banner's lines on signing in as each role and team. */
export function devAccountLines(): string[] {
  return [
    ...Object.entries(DEV_ACCOUNTS).map(
      ([login, a]) =>
        `${' '.repeat(20)}${login.padEnd(13)} ${a.roles.join(',').padEnd(8)} ${a.teams.length > 0 ? `team ${a.teams.join(',')}` : 'no team'}  (${a.name})`,
    ),
    `${' '.repeat(20)}or any name:role,role@team,team, e.g. alice:editor@demo; any password`,
  ];
}
