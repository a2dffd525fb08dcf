import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../config/load';
import type { Simulator } from '../simulator/server';
import type { AuditRecorder } from '../audit/recording/recorder';
import type { OwnershipStore } from '../ownership/store';
import { keptEd25519KeyPem, localSecret } from '../secrets/kept';
import { mintToken } from '../auth/mint';
import { devAccountLines, startDevIdentityProvider, type DevIdentityProvider } from './identity-provider';

import { DEMO_TEAM } from './demo-team';

export { DEMO_TEAM };

/** Settings the local default adds, by their environment names, before the configuration is loaded once more. */
export type Overlay = Record<string, string>;

export interface LocalDefault {
  /** The configuration loaded from the environment with the overlay: validated like any other. */
  config: Config;
  /** What the overlay set, by name (secrets included: never logged). */
  overlay: Overlay;
  simulator?: Simulator;
  idp?: DevIdentityProvider;
  /** Gives the simulator's example applications to the demo team, through the trail (once). */
  ownDemoApplications(deps: DemoOwnershipDeps): Promise<void>;
  /** What to print once the gateway listens at `url`: how to reach it as each kind of person. */
  banner(url: string): string;
  close(): Promise<void>;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', '0.0.0.0', 'localhost']);

/**
 * The local default, in one place, as one overlay of settings (like `vault server -dev`). Outside production:
 * - with no DeveloperKey, the gateway fronts the in-repo simulator with a key made up for it, and, with no JWT key
 *   either, signs staff tokens with a secret kept in DATA_DIR, so tokens minted earlier stay valid across restarts;
 * - with no OIDC_ISSUER there, browser sign-in goes to a development IdP on its own loopback port (when the
 *   gateway's address is known before it listens: a fixed PORT on a local host);
 * - every secret left unset (the audit HMAC and signing keys, the session secret) is made once and kept in DATA_DIR.
 * The configuration is then loaded again from the environment plus the overlay, so what the gateway is composed
 * from went through the same validation as in production. Never in production: loadConfig refuses to start there
 * without every one of these, and serve.ts does not load this module there.
 */
export async function applyLocalDefault(config: Config, env: NodeJS.ProcessEnv): Promise<LocalDefault> {
  if (config.env === 'production') throw new Error('the local default never runs in production');
  const overlay: Overlay = {};
  let simulator: Simulator | undefined;
  let idp: DevIdentityProvider | undefined;
  if (!config.upstream.developerKey) {
    overlay.KLOUDLESS_DEVELOPER_KEY = `sim-${randomBytes(18).toString('base64url')}`;
    simulator = (await import('../simulator/server')).createSimulator({
      developerKey: overlay.KLOUDLESS_DEVELOPER_KEY,
      seed: true,
    });
    overlay.KLOUDLESS_API_URL = await simulator.listen(0, '127.0.0.1');
    if (!config.jwt.secret && !config.jwt.publicKey && !config.jwt.jwksUrl) {
      overlay.JWT_SECRET = localSecret(config.dataDir, 'local-jwt-secret');
      overlay.JWT_ALGORITHMS = 'HS256';
    }
    if (!config.oidc && config.port !== 0 && LOCAL_HOSTS.has(config.host)) {
      const origin = `http://127.0.0.1:${config.port}`;
      idp = await startDevIdentityProvider({
        env: config.env,
        redirectUris: [`${origin}/auth/callback`],
        postLogoutRedirectUris: [`${origin}/app/`],
      });
      Object.assign(overlay, {
        OIDC_ISSUER: idp.issuer,
        OIDC_CLIENT_ID: idp.clientId,
        OIDC_CLIENT_SECRET: idp.clientSecret,
        OIDC_REDIRECT_URI: `${origin}/auth/callback`,
      });
    }
  }
  Object.assign(overlay, localSecrets(config, Boolean(idp)));
  const close = async () => {
    await simulator?.close();
    await idp?.close();
  };
  try {
    const loaded = loadConfig({ ...env, ...overlay });
    return {
      config: loaded,
      overlay,
      simulator,
      idp,
      ownDemoApplications: (deps) => (simulator ? ownDemoApplications(deps, simulator) : Promise.resolve()),
      banner: (url) => banner(url, loaded.jwt.secret, idp?.issuer),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The secrets left unset, made once and kept in DATA_DIR, by their setting names: the audit chain's HMAC key, the
 * log's signing key and (with browser sign-in) the session secret. Outside production only.
 */
export function localSecrets(config: Config, signIn = Boolean(config.oidc)): Overlay {
  if (config.env === 'production') throw new Error('local secrets are never made in production');
  const overlay: Overlay = {};
  if (!config.audit.hmacKey) overlay.AUDIT_HMAC_KEY = localSecret(config.dataDir, 'local-audit-hmac-key');
  if (!config.audit.signingKey)
    overlay.AUDIT_SIGNING_KEY = keptEd25519KeyPem(config.dataDir, 'local-audit-signing-key.pem');
  if (signIn && !config.session.secret) overlay.SESSION_SECRET = localSecret(config.dataDir, 'local-session-secret');
  return overlay;
}

/** Gives the simulator's example applications to the demo team (once: ownership is kept in DATA_DIR), through the trail. */
export interface DemoOwnershipDeps {
  ownership: { store: Pick<OwnershipStore, 'ownerOf'> };
  audit: { recorder: Pick<AuditRecorder, 'recordOwnershipChange'> };
}

export async function ownDemoApplications(deps: DemoOwnershipDeps, simulator: Simulator): Promise<void> {
  for (const app of simulator.store.listApplications()) {
    if (await deps.ownership.store.ownerOf(app.id)) continue;
    await deps.audit.recorder.recordOwnershipChange(undefined, {
      applicationId: app.id,
      from: null,
      to: DEMO_TEAM,
      via: 'local_default',
    });
  }
}

function banner(url: string, secret: string | undefined, idpIssuer: string | undefined): string {
  const token = secret
    ? mintToken(secret, {
        sub: 'local-admin',
        roles: ['admin'],
        teams: [DEMO_TEAM],
        ttlS: 12 * 3600,
        name: 'Local Admin',
      })
    : undefined;
  return [
    '',
    '==> LOCAL DEFAULT: the gateway fronts the built-in Kloudless simulator, not the real API.',
    '    Set KLOUDLESS_DEVELOPER_KEY and a JWT key (see README) to run the real gateway.',
    '',
    ...(token
      ? [
          `    Admin token (12 h):  ${token}`,
          '',
          '    Try:',
          `    curl -H "Authorization: Bearer ${token}" ${url}/v1/applications`,
          '',
        ]
      : ['    Staff tokens: signed by your identity provider (JWT_PUBLIC_KEY or JWT_JWKS_URL is set).', '']),
    '    Other roles:    npm run token -- --sub alice --roles editor --teams demo --ttl 1h',
    '                    (the example applications belong to team "demo"; the admin token reaches every team)',
    ...(idpIssuer
      ? [
          `    Web app:        ${url}/app/  (browser sign-in at the development IdP, ${idpIssuer}; sign in as:`,
          ...devAccountLines(),
          '                    the session cookie is not Secure here: http on 127.0.0.1 only, never in production)',
        ]
      : ['    Web app:        browser sign-in needs a fixed PORT (not 0) on 127.0.0.1 in the local default']),
    `    Review:         ${url}/app/#/review  (the web app's review view; sign in as auditor)`,
    `    API reference:  ${url}/docs`,
    '',
    '',
  ].join('\n');
}
