import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * C2SP signed notes (c2sp.org/signed-note), checkpoints (c2sp.org/tlog-checkpoint) and Ed25519 witness
 * cosignatures (c2sp.org/tlog-cosignature, cosignature/v1). Pure: shared by the gateway, the witness and
 * the offline verifier.
 */

export const ED25519 = 0x01;
export const COSIGNATURE_V1 = 0x04;
const EM_DASH = '\u2014';
const MAX_SIGNATURES = 32;

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

/** Someone whose signatures a reader recognises: a name, a key id, a public key and a signature type. */
export interface NoteVerifier {
  name: string;
  keyId: Buffer;
  type: typeof ED25519 | typeof COSIGNATURE_V1;
  publicKey: KeyObject;
  vkey: string;
}

export interface NoteSigner extends NoteVerifier {
  privateKey: KeyObject;
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
  line: string;
}

export class NoteError extends Error {}

export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || !jwk.x) throw new NoteError('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

export function keyIdOf(name: string, type: number, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.of(0x0a, type))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** `<name>+<hex key id>+<base64(type ‖ public key)>`, the verifier key string of golang.org/x/mod/sumdb/note. */
export function signerFor(
  name: string,
  privateKey: KeyObject,
  type: typeof ED25519 | typeof COSIGNATURE_V1 = ED25519,
): NoteSigner {
  assertKeyName(name);
  const raw = rawPublicKey(privateKey);
  const keyId = keyIdOf(name, type, raw);
  const vkey = `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.of(type), raw]).toString('base64')}`;
  return { name, keyId, type, publicKey: createPublicKey(privateKey), privateKey, vkey };
}

export function parseVkey(vkey: string): NoteVerifier {
  // The base64 key material may itself hold '+': only the first two separate fields.
  const match = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey.trim());
  if (!match) throw new NoteError('malformed verifier key');
  const [, name, hexId, material] = match as unknown as [string, string, string, string];
  const bytes = Buffer.from(material, 'base64');
  const type = bytes[0];
  if ((type !== ED25519 && type !== COSIGNATURE_V1) || bytes.length !== 33)
    throw new NoteError('verifier key is not Ed25519 (type 0x01 or 0x04)');
  const raw = bytes.subarray(1);
  const keyId = keyIdOf(name, type, raw);
  if (keyId.toString('hex') !== hexId) throw new NoteError('verifier key id does not match its key');
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  return { name, keyId, type, publicKey, vkey: vkey.trim() };
}

function assertKeyName(name: string): void {
  if (!name || /[\s+]/u.test(name)) throw new NoteError('a key name is non-empty, without spaces or "+"');
}

export function checkpointBody({ origin, size, root }: Checkpoint): string {
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

export function parseCheckpointBody(body: string): Checkpoint {
  const lines = body.split('\n');
  const [origin, sizeText, rootText] = lines;
  if (lines.length < 4 || lines.at(-1) !== '' || !origin || !sizeText || !rootText)
    throw new NoteError('a checkpoint has an origin, a size and a root hash line');
  if (!/^(0|[1-9]\d{0,15})$/.test(sizeText)) throw new NoteError('the tree size is a decimal without leading zeroes');
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText)
    throw new NoteError('the root hash is 32 bytes of base64');
  return { origin, size: Number(sizeText), root };
}

export function signatureLine(name: string, keyId: Buffer, signature: Buffer): string {
  return `${EM_DASH} ${name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
}

export function signNote(body: string, signer: NoteSigner): string {
  return `${body}\n${signatureLine(signer.name, signer.keyId, sign(null, Buffer.from(body, 'utf8'), signer.privateKey))}`;
}

/** Splits a note into its text and signature lines (the text ends at the last blank line). */
export function parseNote(note: string): { body: string; signatures: NoteSignature[] } {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new NoteError('a note has no control characters but newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('a note is text, a blank line and signature lines');
  const body = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('too many signatures');
  return { body, signatures: lines.map(parseSignatureLine) };
}

export function parseSignatureLine(line: string): NoteSignature {
  const match = /^\u2014 (\S+) ([A-Za-z0-9+/]+=*)$/.exec(line.replace(/\n$/, ''));
  if (!match) throw new NoteError('malformed signature line');
  const bytes = Buffer.from(match[2] as string, 'base64');
  if (bytes.length < 5) throw new NoteError('signature too short');
  return {
    name: match[1] as string,
    keyId: bytes.subarray(0, 4),
    signature: bytes.subarray(4),
    line: `${line.replace(/\n$/, '')}\n`,
  };
}

/** The message a cosignature/v1 signs: a header line, the time line, then the checkpoint text. */
export function cosignedMessage(body: string, timestamp: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${body}`, 'utf8');
}

export function cosign(body: string, witness: NoteSigner, timestamp: number): string {
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(timestamp));
  const signature = sign(null, cosignedMessage(body, timestamp), witness.privateKey);
  return signatureLine(witness.name, witness.keyId, Buffer.concat([time, signature]));
}

/** Whether one signature line is a valid signature of `body` by `verifier` (a log key or a cosigner). */
export function signatureVerifies(body: string, sig: NoteSignature, verifier: NoteVerifier): boolean {
  if (sig.name !== verifier.name || !sig.keyId.equals(verifier.keyId)) return false;
  if (verifier.type === ED25519)
    return sig.signature.length === 64 && verify(null, Buffer.from(body, 'utf8'), verifier.publicKey, sig.signature);
  if (sig.signature.length !== 72) return false;
  const timestamp = sig.signature.readBigUInt64BE(0);
  if (timestamp >= 2n ** 63n) return false;
  return verify(null, cosignedMessage(body, Number(timestamp)), verifier.publicKey, sig.signature.subarray(8));
}

/**
 * Verifies a note as c2sp.org/signed-note says: signatures from unknown keys are ignored, a known key's
 * signature that fails rejects the note, and at least one known signature must verify. Returns the
 * names of the keys that signed.
 */
export function verifyNote(note: string, verifiers: NoteVerifier[]): { body: string; signedBy: string[] } {
  const { body, signatures } = parseNote(note);
  const signedBy: string[] = [];
  for (const sig of signatures) {
    const known = verifiers.find((v) => v.name === sig.name && v.keyId.equals(sig.keyId));
    if (!known) continue;
    if (!signatureVerifies(body, sig, known)) throw new NoteError(`the signature of ${sig.name} does not verify`);
    signedBy.push(known.name);
  }
  if (signedBy.length === 0) throw new NoteError('no signature from a known key');
  return { body, signedBy: [...new Set(signedBy)] };
}
