import type * as Jose from 'jose';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import type { KeyObject } from 'node:crypto';
import { importEsm } from './oidc/esm';

let jose: Promise<typeof Jose> | undefined;

/** Why a signature check failed: the signature does not verify with this key, or it cannot be a signature at all. */
export class SignatureRefused extends Error {
  constructor(readonly reason: 'bad_signature' | 'malformed') {
    super(reason);
    this.name = 'SignatureRefused';
  }
}

/**
 * The claims of `token` once its signature verifies with `key` under `algorithm`, which the caller already held to
 * its allowlist and to the key's type. jsonwebtoken 9 has no EdDSA, so Ed25519 tokens are verified by jose (an ES
 * module, loaded when first needed); every other algorithm by jsonwebtoken as before.
 */
export async function verifiedClaims(token: string, key: KeyObject, algorithm: string): Promise<JwtPayload> {
  if (algorithm === 'EdDSA') return verifiedByJose(token, key);
  try {
    return jwt.verify(token, key, {
      algorithms: [algorithm as jwt.Algorithm],
      ignoreExpiration: true,
      ignoreNotBefore: true,
    }) as JwtPayload;
  } catch (err) {
    if (err instanceof jwt.JsonWebTokenError) throw new SignatureRefused('bad_signature');
    // jwa throws a TypeError for a signature of the wrong length or encoding for its algorithm.
    if (err instanceof TypeError) throw new SignatureRefused('malformed');
    throw err;
  }
}

async function verifiedByJose(token: string, key: KeyObject): Promise<JwtPayload> {
  const lib = await (jose ??= importEsm<typeof Jose>('jose'));
  let payload: Uint8Array;
  try {
    ({ payload } = await lib.compactVerify(token, key, { algorithms: ['EdDSA'] }));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new SignatureRefused('bad_signature');
    if (typeof code === 'string' && code.startsWith('ERR_JWS')) throw new SignatureRefused('malformed');
    throw err;
  }
  const claims: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new SignatureRefused('malformed');
  return claims as JwtPayload;
}
