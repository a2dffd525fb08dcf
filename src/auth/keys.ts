import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { ConfigError, type Config } from '../config/load';

const FAMILIES: Record<string, string[]> = {
  secret: ['HS256', 'HS384', 'HS512'],
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  ec: ['ES256', 'ES384', 'ES512'],
  okp: ['EdDSA'], // Ed25519 only (RFC 8037)
};
const EC_CURVE_ALGORITHM: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** The configured keys: the current one first, then those kept during a rotation; tokens may name any of them. */
export type StaticKeys = { keys: KeyObject[]; algorithms: string[] };

/**
 * Loads the configured verification keys once as KeyObjects (jsonwebtoken 9 re-parses string keys on every call)
 * and fixes the algorithm allowlist. An allowlist that does not fit the keys' type is a start-up error, which is
 * what rules out HS/RS key confusion: a secret and a public key are never configured together, and every key
 * kept from before a rotation (JWT_SECRETS_PREVIOUS, JWT_PUBLIC_KEYS_PREVIOUS) must fit the allowlist too.
 */
export function loadStaticKeys(jwt: Config['jwt']): StaticKeys | undefined {
  if (jwt.secret) {
    const keys = [jwt.secret, ...jwt.previousSecrets].map((s) => createSecretKey(Buffer.from(s, 'utf8')));
    return { keys, algorithms: algorithmsFor(['secret'], ['HS256'], jwt.algorithms) };
  }
  if (!jwt.publicKey) return undefined;
  const current = publicKey(jwt.publicKey, 'JWT_PUBLIC_KEY');
  const previous = pemBlocks(jwt.previousPublicKeys ?? '').map((pem, i) =>
    publicKey(pem, `JWT_PUBLIC_KEYS_PREVIOUS (key ${i + 1})`),
  );
  const all = [current, ...previous];
  const algorithms = algorithmsFor(
    [...new Set(all.map((k) => k.family))],
    [...new Set(all.flatMap((k) => k.defaults))],
    jwt.algorithms,
  );
  for (const [i, k] of previous.entries()) {
    if (!algorithms.some((a) => FAMILIES[k.family]?.includes(a)))
      throw new ConfigError([
        `JWT_PUBLIC_KEYS_PREVIOUS (key ${i + 1}): a ${k.family} key fits none of the allowed algorithms (${algorithms.join(', ')}); add its algorithm to JWT_ALGORITHMS`,
      ]);
  }
  return { keys: [current.key, ...previous.map((k) => k.key)], algorithms };
}

type Family = 'secret' | 'rsa' | 'ec' | 'okp';

function publicKey(pem: string, setting: string): { key: KeyObject; family: Family; defaults: string[] } {
  let key: KeyObject;
  try {
    key = createPublicKey(pem.replace(/\\n/g, '\n'));
  } catch {
    throw new ConfigError([`${setting}: not a PEM public key`]);
  }
  const type = key.asymmetricKeyType ?? '';
  if (type === 'rsa') return { key, family: 'rsa', defaults: ['RS256'] };
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    return { key, family: 'ec', defaults: [EC_CURVE_ALGORITHM[curve] ?? 'ES256'] };
  }
  if (type === 'ed25519') return { key, family: 'okp', defaults: ['EdDSA'] };
  throw new ConfigError([`${setting}: ${type} keys are not supported (RSA, EC or Ed25519)`]);
}

/** Each PEM block of a bundle (one after the other, as `cat old.pem older.pem` writes them). */
function pemBlocks(text: string): string[] {
  return text.replace(/\\n/g, '\n').match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g) ?? [];
}

function algorithmsFor(families: Family[], defaults: string[], configured: string[]): string[] {
  const algorithms = configured.length > 0 ? configured : defaults;
  assertAlgorithmsFit(
    algorithms,
    families.flatMap((f) => FAMILIES[f] ?? []),
  );
  return algorithms;
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
