import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { ConfigError, type Config } from '../config/load';

const FAMILIES: Record<string, string[]> = {
  secret: ['HS256', 'HS384', 'HS512'],
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  ec: ['ES256', 'ES384', 'ES512'],
  okp: ['EdDSA'], // Ed25519 only (RFC 8037)
};
const EC_CURVE_ALGORITHM: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

export type StaticKey = { key: KeyObject; algorithms: string[] };

/**
 * Loads the configured verification key once as a KeyObject (jsonwebtoken 9 re-parses string keys on
 * every call) and fixes the algorithm allowlist. An allowlist that does not fit the key's type is a
 * start-up error, which is what rules out HS/RS key confusion.
 */
export function loadStaticKey(jwt: Config['jwt']): StaticKey | undefined {
  if (jwt.secret)
    return withAlgorithms(createSecretKey(Buffer.from(jwt.secret, 'utf8')), 'secret', ['HS256'], jwt.algorithms);
  if (!jwt.publicKey) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey(jwt.publicKey.replace(/\\n/g, '\n'));
  } catch {
    throw new ConfigError(['JWT_PUBLIC_KEY: not a PEM public key']);
  }
  const type = key.asymmetricKeyType ?? '';
  if (type === 'rsa') return withAlgorithms(key, 'rsa', ['RS256'], jwt.algorithms);
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    return withAlgorithms(key, 'ec', [EC_CURVE_ALGORITHM[curve] ?? 'ES256'], jwt.algorithms);
  }
  if (type === 'ed25519') return withAlgorithms(key, 'okp', ['EdDSA'], jwt.algorithms);
  throw new ConfigError([`JWT_PUBLIC_KEY: ${type} keys are not supported (RSA, EC or Ed25519)`]);
}

function withAlgorithms(key: KeyObject, family: string, defaults: string[], configured: string[]): StaticKey {
  const algorithms = configured.length > 0 ? configured : defaults;
  assertAlgorithmsFit(algorithms, FAMILIES[family] ?? []);
  return { key, algorithms };
}

/** JWKS keys are RSA, EC or Ed25519, never shared secrets; each token's key must still fit its algorithm. */
export function jwksAlgorithms(configured: string[]): string[] {
  const algorithms = configured.length > 0 ? configured : ['RS256', 'ES256', 'EdDSA'];
  assertAlgorithmsFit(algorithms, [...(FAMILIES.rsa ?? []), ...(FAMILIES.ec ?? []), ...(FAMILIES.okp ?? [])]);
  return algorithms;
}

function assertAlgorithmsFit(algorithms: string[], allowed: string[]): void {
  const misfits = algorithms.filter((a) => !allowed.includes(a));
  if (misfits.length > 0) {
    throw new ConfigError([
      `JWT_ALGORITHMS: ${misfits.join(', ')} cannot be used with this key (allowed: ${allowed.join(', ')})`,
    ]);
  }
}

export function algorithmFamily(algorithm: string): 'rsa' | 'ec' | 'okp' | 'secret' | undefined {
  return (Object.keys(FAMILIES) as ('rsa' | 'ec' | 'okp' | 'secret')[]).find((f) => FAMILIES[f]?.includes(algorithm));
}
