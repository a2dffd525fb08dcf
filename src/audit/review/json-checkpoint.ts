import type { AuditKeys } from '../trail/keys';
import type { StoredEntry } from '../trail/entry';

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
  return {
    sequence,
    hash,
    time,
    key_id: keys.keyId,
    signature,
    token: `${payload.toString('base64url')}.${signature}`,
    public_key: keys.publicKeyPem,
  };
}

/**
 * The checkpoint a token holds, if its signature verifies with the key it names (its `key_id`: the current one or
 * one a rotation kept in the keyring). Decoded strictly: one spelling per checkpoint (base64url without padding, as
 * signCheckpoint writes it), a sequence of digits and a 32-byte hash, so no variant of one checkpoint can pass for
 * another request (issue 18, finding 2: `=` padding started a walk per spelling).
 */
export function readCheckpoint(keys: AuditKeys, token: string): Checkpoint | undefined {
  const [payloadPart, signaturePart, extra] = token.split('.');
  if (!payloadPart || !signaturePart || extra !== undefined) return undefined;
  const payload = strictBase64url(payloadPart);
  const signature = strictBase64url(signaturePart);
  if (!payload || !signature) return undefined;
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as {
      sequence: unknown;
      hash: unknown;
      time: unknown;
      key_id?: unknown;
    };
    const key = typeof parsed.key_id === 'string' ? keys.withId(parsed.key_id) : undefined;
    if (!key?.verifySignature(payload, signature)) return undefined;
    if (typeof parsed.sequence !== 'string' || !/^(0|[1-9]\d{0,18})$/.test(parsed.sequence)) return undefined;
    if (typeof parsed.hash !== 'string' || !/^[0-9a-f]{64}$/.test(parsed.hash) || typeof parsed.time !== 'string')
      return undefined;
    return { sequence: BigInt(parsed.sequence), hash: Buffer.from(parsed.hash, 'hex'), time: parsed.time };
  } catch {
    return undefined;
  }
}

/** Bytes from base64url only if `text` is exactly how base64url writes them (no padding, no stray bits). */
function strictBase64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
