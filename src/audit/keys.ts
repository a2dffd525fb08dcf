import { createHash, createHmac, createPrivateKey, createPublicKey, hkdfSync, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/**
 * Everything derived from AUDIT_HMAC_KEY: the chain's HMAC, the fingerprints of secrets (Vault's
 * audit-hash) and the Ed25519 key that signs checkpoints. Someone with database access but not this
 * key can neither re-forge the chain nor recover a secret from its fingerprint.
 */
export interface AuditKeys {
  keyId: string;
  chainHash(previous: Buffer | null, content: string): Buffer;
  fingerprint(secret: string): string;
  sign(payload: Buffer): Buffer;
  verifySignature(payload: Buffer, signature: Buffer): boolean;
  publicKeyPem: string;
}

const GENESIS = Buffer.alloc(32);
// PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function createAuditKeys(secret: string): AuditKeys {
  const key = Buffer.from(secret, 'utf8');
  const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `kloudless-gateway ${purpose}`, 32));
  const chainKey = derive('audit chain');
  const fingerprintKey = derive('secret fingerprint');
  const signingKey: KeyObject = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, derive('checkpoint signing')]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(signingKey);
  return {
    keyId: createHash('sha256').update(key).digest('hex').slice(0, 16),
    chainHash: (previous, content) => createHmac('sha256', chainKey).update(previous ?? GENESIS).update(content, 'utf8').digest(),
    fingerprint: (value) => `hmac-sha256:${createHmac('sha256', fingerprintKey).update(value, 'utf8').digest('hex')}`,
    sign: (payload) => sign(null, payload, signingKey),
    verifySignature: (payload, signature) => verify(null, payload, publicKey, signature),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
