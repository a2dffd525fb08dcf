import type * as OpenIdClient from 'openid-client';
import type { Config } from '../../config/load';
import { GatewayError, type ErrorDetail } from '../../errors/codes';
import type { ErrorReason } from '../../errors/reasons';
import { importEsm } from './esm';

/** What /auth/login keeps (sealed, in the browser) until the identity provider redirects back. */
export interface SignInTransaction {
  state: string;
  nonce: string;
  verifier: string;
}

/**
 * The verified outcome of a sign-in: the ID token's claims merged with userinfo's. The ID token itself is dropped
 * here, never kept at rest (issue 24): logout names the client (`client_id`), not the token.
 */
export interface SignInResult {
  claims: Record<string, unknown>;
}

export interface OidcClient {
  /** Where to send the browser, with PKCE S256, state and nonce; the transaction must come back with it. */
  start(): Promise<{ url: string; transaction: SignInTransaction }>;
  /** Completes the code flow: state, then the code exchange with the verifier, then the ID token (signature, iss, aud, nonce). */
  complete(callbackQuery: string, transaction: SignInTransaction): Promise<SignInResult>;
  /** RP-initiated logout at the identity provider, when it publishes an end_session_endpoint. */
  endSessionUrl(postLogoutRedirectUri: string): Promise<string | undefined>;
}

/** The only issuers reached over plain http: a development identity provider on this machine. */
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
const RETRY_DISCOVERY_AFTER_MS = 5_000;

/**
 * openid-client (certified by the OpenID Foundation) does every protocol check; this module only adapts it.
 * Discovery happens on first use and is retried after a failure, so the gateway starts while the IdP is down.
 */
export function createOidcClient(oidc: NonNullable<Config['oidc']>, env: Config['env']): OidcClient {
  const issuer = new URL(oidc.issuer);
  const insecure = issuer.protocol === 'http:';
  if (insecure && (env === 'production' || !LOOPBACK.has(issuer.hostname)))
    throw new Error('OIDC_ISSUER may be http only on loopback, outside production');
  let discovered: { lib: typeof OpenIdClient; config: OpenIdClient.Configuration } | undefined;
  let failedAt = 0;

  async function discover() {
    if (discovered) return discovered;
    if (Date.now() - failedAt < RETRY_DISCOVERY_AFTER_MS) throw unavailable();
    try {
      const lib = await importEsm<typeof OpenIdClient>('openid-client');
      const auth = oidc.clientSecret ? lib.ClientSecretBasic(oidc.clientSecret) : lib.None();
      const config = await lib.discovery(issuer, oidc.clientId, undefined, auth, {
        timeout: 5,
        ...(insecure ? { execute: [lib.allowInsecureRequests] } : {}),
      });
      discovered = { lib, config };
      return discovered;
    } catch {
      failedAt = Date.now();
      throw unavailable();
    }
  }

  return {
    async start() {
      const { lib, config } = await discover();
      const transaction = {
        state: lib.randomState(),
        nonce: lib.randomNonce(),
        verifier: lib.randomPKCECodeVerifier(),
      };
      const url = lib.buildAuthorizationUrl(config, {
        redirect_uri: oidc.redirectUri,
        scope: oidc.scopes.join(' '),
        response_type: 'code',
        code_challenge: await lib.calculatePKCECodeChallenge(transaction.verifier),
        code_challenge_method: 'S256',
        state: transaction.state,
        nonce: transaction.nonce,
      });
      return { url: url.href, transaction };
    },

    async complete(callbackQuery, transaction) {
      const { lib, config } = await discover();
      // The URL the IdP redirected to, rebuilt from configuration: the Host header is the client's to choose.
      const current = new URL(oidc.redirectUri);
      current.search = callbackQuery;
      try {
        const tokens = await lib.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: transaction.verifier,
          expectedState: transaction.state,
          expectedNonce: transaction.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims() as Record<string, unknown> | undefined;
        if (!idClaims) throw signInFailed('no_id_token');
        const userinfo = config.serverMetadata().userinfo_endpoint
          ? ((await lib.fetchUserInfo(config, tokens.access_token, idClaims.sub as string)) as Record<string, unknown>)
          : {};
        // Roles and teams may sit in either (JWT_ROLES_CLAIM, JWT_TEAMS_CLAIM); the ID token's win, its checks having passed.
        return { claims: { ...userinfo, ...idClaims, ...pick(userinfo, PROFILE_CLAIMS) } };
      } catch (err) {
        throw classify(err, lib);
      }
    },

    async endSessionUrl(postLogoutRedirectUri) {
      const { lib, config } = await discover();
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      // client_id, not id_token_hint: the ID token stays on the server (RP-Initiated Logout 1.0 §2 allows either).
      return lib.buildEndSessionUrl(config, {
        client_id: oidc.clientId,
        post_logout_redirect_uri: postLogoutRedirectUri,
      }).href;
    },
  };
}

/** userinfo is fresher for profile claims; the ID token stays authoritative for iss, sub, aud and the rest. */
const PROFILE_CLAIMS = ['name', 'preferred_username', 'email'];

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

function unavailable(): GatewayError {
  return new GatewayError('sign_in_unavailable', undefined, [{ reason: 'identity_provider_unreachable' }], {
    retryAfterS: 5,
  });
}

export function signInFailed(reason: ErrorReason, message?: string, extra: ErrorDetail = {}): GatewayError {
  return new GatewayError('sign_in_failed', message, [{ reason, ...extra }]);
}

/** By class and code, never by message: the IdP's own refusal, a failed check of its answer, or no answer at all. */
function classify(err: unknown, lib: typeof OpenIdClient): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof lib.AuthorizationResponseError)
    return signInFailed('identity_provider_refused', `The identity provider answered ${err.error}.`);
  if (err instanceof lib.ResponseBodyError)
    return signInFailed('token_request_refused', `The identity provider refused the code exchange (${err.error}).`);
  // A 401 with a challenge: the IdP did not accept the gateway's own client credentials (a rotated or wrong
  // OIDC_CLIENT_SECRET). An answer, not an outage: telling it apart sends the operator to the right runbook.
  if (err instanceof lib.WWWAuthenticateChallengeError)
    return signInFailed(
      'token_request_refused',
      `The identity provider refused the gateway's client credentials (${challengeError(err)}).`,
    );
  // Every check openid-client makes on an answer (state, nonce, PKCE, issuer, signature, claims) is one reason; its own
  // error code says which check failed.
  if (err instanceof lib.ClientError) return signInFailed('invalid_response', undefined, { check: checkOf(err.code) });
  return unavailable();
}

function challengeError(err: InstanceType<typeof OpenIdClient.WWWAuthenticateChallengeError>): string {
  const error = err.cause.find((c) => typeof c.parameters.error === 'string')?.parameters.error;
  return error ?? `HTTP ${err.status}`;
}

function checkOf(code: string | undefined): string {
  return (code ?? 'invalid_response').toLowerCase().replace(/^oauth_/, '');
}
