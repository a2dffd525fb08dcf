import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { rawPublicKey, signerFor, type NoteSigner } from './note';

/** Parses AUDIT_SIGNING_KEY: a PEM (PKCS#8) Ed25519 private key, or a problem to report at start-up. */
export function parseSigningKey(pem: string): KeyObject | string {
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'ed25519' ? key : `is a ${key.asymmetricKeyType} key, not Ed25519`;
  } catch {
    return 'is not a PEM private key';
  }
}

/** The default origin: stable for one signing key, so two deployments never share a log identity by accident. */
export function defaultOrigin(key: KeyObject): string {
  return `kloudless-gateway.audit/${createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16)}`;
}

export interface LogIdentity {
  signer: NoteSigner;
  publicKeyPem: string;
}

export function logIdentity(pem: string, origin: string | undefined): LogIdentity {
  const key = parseSigningKey(pem);
  if (typeof key === 'string') throw new Error(`AUDIT_SIGNING_KEY ${key}`);
  const signer = signerFor(origin ?? defaultOrigin(key), key);
  return { signer, publicKeyPem: signer.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
