import jwt, { type JwtHeader, type JwtPayload } from 'jsonwebtoken';
import type { KeyObject } from 'node:crypto';
import type { Config } from '../config/load';
import { GatewayError } from '../errors/codes';
import { createJwksResolver, UnknownKey, type KeyResolver } from './jwks';
import { SignatureRefused, verifiedClaims } from './signature';
import { algorithmFamily, jwksAlgorithms, loadStaticKeys } from './keys';
import { teamsFromClaims } from '../ownership/teams';
import { IDENTITY_CLAIMS, principalFromClaims, type Principal } from './principal';
import { uncleanClaim } from './claim-text';
import { TokenCache } from './token-cache';

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Stable reasons an otherwise well-formed bearer token is refused; they appear in error details and logs. */
export type TokenRejection =
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'missing_exp'
  | 'lifetime_too_long'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_sub'
  | 'unsupported_critical_header'
  | 'invalid_teams_claim'
  | 'invalid_claim_text';

export function tokenRejected(reason: TokenRejection, message: string): GatewayError {
  return new GatewayError('invalid_token', message, [{ reason }], {
    challenge: { scheme: 'Bearer', error: 'invalid_token', description: reason },
  });
}

/** Verified tokens kept by default (src/auth/token-cache.ts): a few per active caller, a few MB at most. */
export const TOKEN_CACHE_SIZE = 1000;

export interface VerifierOptions {
  /** Verified tokens kept (0: every token is verified every time). */
  cacheSize?: number;
}

/**
 * jsonwebtoken checks the signature, and only the signature: its errors carry no codes (only message text), so
 * every claim is checked here, each with its own reason, and any error jsonwebtoken raises means the signature.
 *
 * A token that passed every check is kept (keyed by the whole token) until its `exp`, so the next request with it
 * skips the signature and claim checks: each check either cannot change for the same token (signature, issuer,
 * audience, subject, roles, teams, `nbf`, `iat`, lifetime) or is bounded by the entry's end (`exp`). The entry
 * is used only while the verifier holds the very key that verified it (a JWKS refetch or rotation drops it).
 */
export function createTokenVerifier(
  jwtConfig: Config['jwt'],
  now: () => number = Date.now,
  options: VerifierOptions = {},
): TokenVerifier {
  const staticKeys = loadStaticKeys(jwtConfig);
  const resolver: KeyResolver | undefined = jwtConfig.jwksUrl
    ? createJwksResolver({ url: jwtConfig.jwksUrl, cacheTtlS: jwtConfig.jwksCacheTtlS, now })
    : undefined;
  const algorithms = staticKeys?.algorithms ?? jwksAlgorithms(jwtConfig.algorithms);
  if (!staticKeys && !resolver) throw new Error('no JWT verification key configured');
  const cache = new TokenCache<Principal>(options.cacheSize ?? TOKEN_CACHE_SIZE, now);
  // Configured keys never change while the verifier lives; a JWKS entry holds while the set still maps its kid to it.
  const stillHeld = (key: KeyObject, kid: string | undefined) =>
    staticKeys ? staticKeys.keys.includes(key) : (resolver as KeyResolver).current(kid) === key;

  /**
   * The keys to try: the configured ones whose type fits the algorithm (the current key, then those kept during a
   * rotation), or from a JWKS the one the kid names, or (no kid) every key of the set whose type fits the algorithm.
   */
  async function keysFor(header: JwtHeader): Promise<KeyObject[]> {
    if (staticKeys) return staticKeys.keys.filter((k) => keyFitsAlgorithm(k, header.alg));
    try {
      if (header.kid === undefined)
        return await (resolver as KeyResolver).keysFitting((k) => keyFitsAlgorithm(k, header.alg));
      return [await (resolver as KeyResolver).keyFor(header.kid)];
    } catch (err) {
      if (err instanceof UnknownKey)
        throw tokenRejected('unknown_key', 'The token was signed with a key the identity provider does not publish.');
      throw err;
    }
  }

  return {
    async verify(token) {
      const cached = cache.get(token, stillHeld);
      if (cached) return cached;
      const header = decodeHeader(token);
      // The token's own `alg` is never trusted to pick the check: it must be on the server's list.
      if (!algorithms.includes(header.alg))
        throw tokenRejected('algorithm_not_allowed', `Tokens signed with ${header.alg} are not accepted.`);
      // RFC 7515 §4.1.11: extensions a verifier does not understand, listed as critical, must be refused.
      if ((header as { crit?: unknown }).crit !== undefined)
        throw tokenRejected(
          'unsupported_critical_header',
          'The token names critical header extensions this gateway does not support.',
        );
      const candidates = await keysFor(header);
      // A JWKS may hold RSA, EC and Ed25519 keys: the kid's key must be of the algorithm's family (and curve).
      if (candidates.length === 0 || !candidates.every((k) => keyFitsAlgorithm(k, header.alg)))
        throw tokenRejected('algorithm_not_allowed', 'The token algorithm does not fit the key.');
      const { claims, key } = await firstVerifying(token, header.alg, candidates);
      assertTimes(claims, jwtConfig.clockToleranceS, now());
      assertAudienceAndIssuer(claims, jwtConfig);
      assertClaims(claims, jwtConfig, now());
      const unclean = uncleanClaim(claims as Record<string, unknown>, IDENTITY_CLAIMS);
      if (unclean)
        throw tokenRejected(
          'invalid_claim_text',
          `The token's ${unclean} holds a control character or invalid Unicode.`,
        );
      const teams = teamsFromClaims(claims as Record<string, unknown>, jwtConfig.teamsClaim);
      if (!teams.ok) throw tokenRejected('invalid_teams_claim', `The token's teams cannot be read: ${teams.problem}.`);
      // Shared by every request that presents the token: frozen, so no request can change another's caller.
      const principal = freezePrincipal(
        principalFromClaims(claims as Record<string, unknown>, jwtConfig.rolesClaim, teams.teams),
      );
      cache.set(token, principal, claims.exp as number, key, header.kid);
      return principal;
    },
  };
}

/**
 * Tries each candidate key in turn (one, unless a kid-less token meets a set of several keys of its algorithm, as
 * during an identity provider's rotation); the first whose signature verifies wins.
 */
async function firstVerifying(
  token: string,
  algorithm: string,
  keys: KeyObject[],
): Promise<{ claims: JwtPayload; key: KeyObject }> {
  let refused: SignatureRefused | undefined;
  for (const key of keys) {
    try {
      return { claims: await verifiedClaims(token, key, algorithm), key };
    } catch (err) {
      if (!(err instanceof SignatureRefused)) throw err;
      refused = err;
      if (err.reason === 'malformed') break; // no key can make it a signature
    }
  }
  if (refused?.reason === 'malformed')
    throw tokenRejected('malformed', 'The token signature is not in the form its algorithm requires.');
  throw tokenRejected('bad_signature', 'The token signature does not verify.');
}

function freezePrincipal(p: Principal): Principal {
  Object.freeze(p.roles);
  Object.freeze(p.teams);
  return Object.freeze(p);
}

function decodeHeader(token: string): JwtHeader {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || typeof decoded.header?.alg !== 'string') {
    throw tokenRejected('malformed', 'The bearer token is not a JWT.');
  }
  return decoded.header;
}

const MAX_EXPIRY_AHEAD_S = 30 * 86400;

function assertClaims(claims: JwtPayload, c: Config['jwt'], nowMs: number): void {
  const nowS = nowMs / 1000;
  if (typeof claims.exp !== 'number') throw tokenRejected('missing_exp', 'The token has no expiry (exp).');
  // Even without JWT_MAX_LIFETIME_S, a token valid for decades is a leaked credential waiting to happen.
  if (claims.exp > nowS + MAX_EXPIRY_AHEAD_S)
    throw tokenRejected('lifetime_too_long', 'The token expires more than 30 days from now.');
  if (typeof claims.iat === 'number' && claims.iat > nowS + c.clockToleranceS) {
    throw tokenRejected('issued_in_future', 'The token claims to be issued in the future.');
  }
  if (c.maxLifetimeS !== undefined) {
    if (typeof claims.iat !== 'number' || claims.exp - claims.iat > c.maxLifetimeS) {
      throw tokenRejected('lifetime_too_long', `Tokens must carry iat and live at most ${c.maxLifetimeS} s.`);
    }
  }
  if (typeof claims.sub !== 'string' || claims.sub === '')
    throw tokenRejected('missing_sub', 'The token has no subject (sub).');
}

/** `nbf` then `exp`, as jsonwebtoken checked them: `exp` is exclusive and `nbf` inclusive at the tolerance's edge. */
function assertTimes(claims: JwtPayload, toleranceS: number, nowMs: number): void {
  const nowS = Math.floor(nowMs / 1000);
  for (const claim of ['nbf', 'exp'] as const) {
    if (claims[claim] !== undefined && typeof claims[claim] !== 'number')
      throw tokenRejected('malformed', `The token's ${claim} is not a number.`);
  }
  if (claims.nbf !== undefined && claims.nbf > nowS + toleranceS)
    throw tokenRejected('not_yet_valid', 'The token is not valid yet (nbf).');
  if (claims.exp !== undefined && nowS >= claims.exp + toleranceS)
    throw tokenRejected('expired', 'The token has expired.');
}

function assertAudienceAndIssuer(claims: JwtPayload, c: Config['jwt']): void {
  if (c.audiences.length > 0) {
    const audiences: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((aud) => typeof aud === 'string' && c.audiences.includes(aud)))
      throw tokenRejected('wrong_audience', 'The token is not meant for this gateway (aud).');
  }
  if (c.issuers.length > 0 && (typeof claims.iss !== 'string' || !c.issuers.includes(claims.iss))) {
    throw tokenRejected('wrong_issuer', 'The token was issued by an issuer this gateway does not trust.');
  }
}

const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

function keyFitsAlgorithm(key: KeyObject, algorithm: string): boolean {
  const family = algorithmFamily(algorithm);
  if (family === 'secret') return key.type === 'secret';
  if (family === 'rsa') return key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss';
  if (family === 'ec')
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVES[algorithm];
  if (family === 'okp') return key.asymmetricKeyType === 'ed25519';
  return false;
}
