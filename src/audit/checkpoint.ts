import type { AuditKeys } from './keys';
import type { StoredEntry } from './entry';

/**
 * A signed statement "the chain had entry N with hash H at time T" (CloudTrail's digest idea). A reviewer
 * keeps it; verifying against it later detects removal of the newest entries, which no chain can show by
 * itself. Signed with Ed25519 so it can be checked offline with the public key.
 */
export interface Checkpoint {
  sequence: bigint;
  hash: Buffer;
  time: string;
}

export interface SignedCheckpoint {
  sequence: string;
  hash: string;
  time: string;
  key_id: string;
  signature: string;
  /** The whole checkpoint in one string, to hand back to `GET /v1/audit/verify?checkpoint=…`. */
  token: string;
  public_key: string;
}

export function signCheckpoint(keys: AuditKeys, head: StoredEntry | undefined, time: string): SignedCheckpoint {
  const sequence = (head?.seq ?? 0n).toString();
  const hash = (head?.hash ?? Buffer.alloc(32)).toString('hex');
  const payload = Buffer.from(JSON.stringify({ sequence, hash, time, key_id: keys.keyId }));
  const signature = keys.sign(payload).toString('base64url');
  return { sequence, hash, time, key_id: keys.keyId, signature, token: `${payload.toString('base64url')}.${signature}`, public_key: keys.publicKeyPem };
}

/** Checked with the key that signed it (its `key_id`), the current one or one a rotation kept in the keyring. */
export function readCheckpoint(keys: AuditKeys, token: string): Checkpoint | undefined {
  const [payloadPart, signaturePart, extra] = token.split('.');
  if (!payloadPart || !signaturePart || extra !== undefined) return undefined;
  const payload = Buffer.from(payloadPart, 'base64url');
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { sequence: string; hash: string; time: string; key_id?: unknown };
    const key = typeof parsed.key_id === 'string' ? keys.withId(parsed.key_id) : undefined;
    if (!key?.verifySignature(payload, Buffer.from(signaturePart, 'base64url'))) return undefined;
    return { sequence: BigInt(parsed.sequence), hash: Buffer.from(parsed.hash, 'hex'), time: parsed.time };
  } catch {
    return undefined;
  }
}
