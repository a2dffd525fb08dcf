import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const TEST_SECRET = 'test-hs256-secret-that-is-at-least-32-bytes-long';
export const TEST_ISSUER = 'https://idp.test/';
export const TEST_AUDIENCE = 'kloudless-gateway';

/** Every token a test makes, so a suite can prove none of them ever leaked. */
export const issuedTokens: string[] = [];

export interface TokenOptions {
  sub?: string;
  roles?: unknown;
  claims?: Record<string, unknown>;
  expiresInS?: number;
  secret?: jwt.Secret;
  algorithm?: jwt.Algorithm;
  issuer?: string;
  audience?: string;
  header?: Record<string, unknown>;
}

export function signToken(o: TokenOptions = {}): string {
  const payload: Record<string, unknown> = {
    sub: o.sub ?? 'alice',
    ...(o.roles === undefined ? {} : { roles: o.roles }),
    jti: randomUUID(),
    ...o.claims,
  };
  const token = jwt.sign(payload, o.secret ?? TEST_SECRET, {
    algorithm: o.algorithm ?? 'HS256',
    ...(o.expiresInS === undefined
      ? { expiresIn: 300 }
      : Number.isNaN(o.expiresInS)
        ? {}
        : { expiresIn: o.expiresInS }),
    issuer: o.issuer ?? TEST_ISSUER,
    audience: o.audience ?? TEST_AUDIENCE,
    ...(o.header ? { header: o.header as unknown as jwt.JwtHeader } : {}),
  });
  issuedTokens.push(token);
  return token;
}

/** The team the harness gives the simulator's example applications to, as the local default does. */
export const DEMO_TEAM = 'demo';

/** A staff token with these roles, in the team that owns the example applications unless `teams` says otherwise. */
export const tokenFor = (
  role: string | string[],
  sub = `user-${Array.isArray(role) ? role.join('+') : role}`,
  teams: string[] = [DEMO_TEAM],
) => signToken({ sub, roles: Array.isArray(role) ? role : [role], claims: { teams } });

/** Hand-built tokens for attacks jsonwebtoken refuses to sign. */
export function forgeToken(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const token = `${part(header)}.${part(payload)}.${signature}`;
  issuedTokens.push(token);
  return token;
}

export function standardClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'mallory', roles: ['admin'], iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 300, ...extra };
}

export function rsaKeyPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

export function ed25519KeyPair() {
  return generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** An EdDSA (Ed25519) token, signed by hand: jsonwebtoken 9 cannot sign EdDSA. Same claims as signToken's. */
export function signEdDsaToken(
  privateKey: string,
  o: { roles?: string[]; sub?: string; header?: Record<string, unknown> } = {},
) {
  const nowS = Math.floor(Date.now() / 1000);
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${part({ alg: 'EdDSA', typ: 'JWT', ...o.header })}.${part({
    sub: o.sub ?? 'alice',
    roles: o.roles ?? ['viewer'],
    teams: [DEMO_TEAM],
    jti: randomUUID(),
    iat: nowS,
    exp: nowS + 300,
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
  })}`;
  const token = `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
  issuedTokens.push(token);
  return token;
}

export function ecKeyPair() {
  return generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}
