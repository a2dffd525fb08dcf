import jwt, { type JwtHeader, type JwtPayload } from 'jsonwebtoken';
import type { KeyObject } from 'node:crypto';
import type { Config } from '../config/load';
import { GatewayError } from '../http/errors';
import { createJwksResolver, type KeyResolver } from './jwks';
import { jwksAlgorithms, loadStaticKey } from './keys';
import { teamsFromClaims } from '../ownership/teams';
import { principalFromClaims, type Principal } from './principal';

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
  | 'invalid_teams_claim';

export function tokenRejected(reason: TokenRejection, message: string): GatewayError {
  return new GatewayError('invalid_token', message, [{ reason }], {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description="${reason}"`,
  });
}

export function createTokenVerifier(jwtConfig: Config['jwt'], now: () => number = Date.now): TokenVerifier {
  const staticKey = loadStaticKey(jwtConfig);
  const resolver: KeyResolver | undefined = jwtConfig.jwksUrl ? createJwksResolver(jwtConfig.jwksUrl, jwtConfig.jwksCacheTtlS) : undefined;
  const algorithms = staticKey?.algorithms ?? jwksAlgorithms(jwtConfig.algorithms);
  if (!staticKey && !resolver) throw new Error('no JWT verification key configured');

  const options = {
    algorithms: algorithms as jwt.Algorithm[],
    clockTolerance: jwtConfig.clockToleranceS,
    ...(jwtConfig.issuers.length > 0 ? { issuer: jwtConfig.issuers as [string, ...string[]] } : {}),
    ...(jwtConfig.audiences.length > 0 ? { audience: jwtConfig.audiences as [string, ...string[]] } : {}),
  };

  async function keyFor(header: JwtHeader): Promise<KeyObject> {
    if (staticKey) return staticKey.key;
    try {
      return await (resolver as KeyResolver).keyFor(header.kid);
    } catch {
      throw tokenRejected('unknown_key', 'The token was signed with a key the identity provider does not publish.');
    }
  }

  return {
    async verify(token) {
      const header = decodeHeader(token);
      // The token's own `alg` is never trusted to pick the check: it must be on the server's list.
      if (!algorithms.includes(header.alg)) throw tokenRejected('algorithm_not_allowed', `Tokens signed with ${header.alg} are not accepted.`);
      // RFC 7515 §4.1.11: extensions a verifier does not understand, listed as critical, must be refused.
      if ((header as { crit?: unknown }).crit !== undefined) throw tokenRejected('unsupported_critical_header', 'The token names critical header extensions this gateway does not support.');
      const key = await keyFor(header);
      let claims: JwtPayload;
      try {
        claims = jwt.verify(token, key, { ...options, clockTimestamp: Math.floor(now() / 1000) }) as JwtPayload;
      } catch (err) {
        throw mapVerifyError(err as Error);
      }
      assertClaims(claims, jwtConfig, now());
      const teams = teamsFromClaims(claims as Record<string, unknown>, jwtConfig.teamsClaim);
      if (!teams.ok) throw tokenRejected('invalid_teams_claim', `The token's teams cannot be read: ${teams.problem}.`);
      return principalFromClaims(claims as Record<string, unknown>, jwtConfig.rolesClaim, teams.teams);
    },
  };
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
  if (claims.exp > nowS + MAX_EXPIRY_AHEAD_S) throw tokenRejected('lifetime_too_long', 'The token expires more than 30 days from now.');
  if (typeof claims.iat === 'number' && claims.iat > nowS + c.clockToleranceS) {
    throw tokenRejected('issued_in_future', 'The token claims to be issued in the future.');
  }
  if (c.maxLifetimeS !== undefined) {
    if (typeof claims.iat !== 'number' || claims.exp - claims.iat > c.maxLifetimeS) {
      throw tokenRejected('lifetime_too_long', `Tokens must carry iat and live at most ${c.maxLifetimeS} s.`);
    }
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') throw tokenRejected('missing_sub', 'The token has no subject (sub).');
}

const VERIFY_MESSAGES: [RegExp, TokenRejection, string][] = [
  [/^invalid signature$/, 'bad_signature', 'The token signature does not verify.'],
  [/^jwt signature is required$/, 'bad_signature', 'The token has no signature.'],
  [/^jwt issuer invalid/, 'wrong_issuer', 'The token was issued by an issuer this gateway does not trust.'],
  [/^jwt audience invalid/, 'wrong_audience', 'The token is not meant for this gateway (aud).'],
  [/^invalid algorithm$/, 'algorithm_not_allowed', 'The token algorithm is not accepted.'],
  [/must be a (symmetric|asymmetric) key|secretOrPublicKey/, 'algorithm_not_allowed', 'The token algorithm does not fit the key.'],
];

function mapVerifyError(err: Error): GatewayError {
  if (err.name === 'TokenExpiredError') return tokenRejected('expired', 'The token has expired.');
  if (err.name === 'NotBeforeError') return tokenRejected('not_yet_valid', 'The token is not valid yet (nbf).');
  for (const [pattern, reason, message] of VERIFY_MESSAGES) if (pattern.test(err.message)) return tokenRejected(reason, message);
  return tokenRejected('malformed', 'The bearer token could not be verified.');
}
