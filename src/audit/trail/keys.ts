import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';

/**
 * Everything derived from one audit key: the chain's HMAC, the fingerprints of secrets (Vault's
 * audit-hash) and the Ed25519 key that signs checkpoints. Someone with database access but not this
 * key can neither re-forge the chain nor recover a secret from its fingerprint.
 */
export interface AuditKey {
  /** Derived from the key (never chosen), stored with every entry it hashed. */
  keyId: string;
  chainHash(previous: Buffer | null, content: string): Buffer;
  fingerprint(secret: string): string;
  sign(payload: Buffer): Buffer;
  verifySignature(payload: Buffer, signature: Buffer): boolean;
  publicKeyPem: string;
}

/**
 * The keyring: AUDIT_HMAC_KEY, which hashes, fingerprints and signs everything new (its members here), and the
 * earlier keys in AUDIT_HMAC_KEYS, kept after a rotation so what they hashed, fingerprinted and signed still verifies
 * and is still found.
 */
export interface AuditKeys extends AuditKey {
  /** The key with this id, the current one or an earlier one; undefined if the keyring does not hold it. */
  withId(keyId: string): AuditKey | undefined;
  /** The secret's fingerprint under every key, current first: a lookup finds it whichever key recorded it. */
  fingerprints(secret: string): string[];
  /** Ids of every key, current first. */
  keyIds: string[];
}

const GENESIS = Buffer.alloc(32);
// PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function createAuditKeys(current: string, earlier: readonly string[] = []): AuditKeys {
  const ring = new Map<string, AuditKey>();
  for (const secret of [current, ...earlier]) {
    const key = deriveKey(secret);
    if (!ring.has(key.keyId)) ring.set(key.keyId, key);
  }
  const keys = [...ring.values()];
  return {
    ...keys[0]!,
    withId: (keyId) => ring.get(keyId),
    fingerprints: (secret) => keys.map((k) => k.fingerprint(secret)),
    keyIds: [...ring.keys()],
  };
}

function deriveKey(secret: string): AuditKey {
  const key = Buffer.from(secret, 'utf8');
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `kloudless-gateway ${purpose}`, 32));
  const chainKey = derive('audit chain');
  const fingerprintKey = derive('secret fingerprint');
  const signingKey: KeyObject = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, derive('checkpoint signing')]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(signingKey);
  return {
    keyId: createHash('sha256').update(key).digest('hex').slice(0, 16),
    chainHash: (previous, content) =>
      createHmac('sha256', chainKey)
        .update(previous ?? GENESIS)
        .update(content, 'utf8')
        .digest(),
    fingerprint: (value) => `hmac-sha256:${createHmac('sha256', fingerprintKey).update(value, 'utf8').digest('hex')}`,
    sign: (payload) => sign(null, payload, signingKey),
    verifySignature: (payload, signature) => verify(null, payload, publicKey, signature),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
