import type { Logger } from 'pino';
import { parseNote, parseSignatureLine, signatureVerifies, type NoteSignature, type NoteVerifier } from './note';

/**
 * The log side of c2sp.org/tlog-witness: hands each new checkpoint to a witness with a consistency proof
 * from the size the witness last cosigned, and keeps the cosignature it returns once it verifies with that
 * witness's key (AUDIT_WITNESS_KEYS). A refusal is loud: an inconsistent history is exactly what a witness
 * exists to catch. So is a cosignature that does not verify: it is not stored.
 */

/** A witness: its submission prefix (AUDIT_WITNESS_URLS) and its cosignature/v1 verifier key (AUDIT_WITNESS_KEYS). */
export interface Witness {
  url: string;
  key: NoteVerifier;
}

/** Why a push is alerted on: the witness refused the checkpoint, or its cosignature does not verify. */
export type AlertReason = 'inconsistent_history' | 'invalid_cosignature';

export interface WitnessPushDeps {
  logger: Logger;
  timeoutMs: number;
  lastCosigned(witness: string): Promise<number>;
  consistency(from: number, to: number): Promise<Buffer[]>;
  saveCosignature(size: number, witness: string, line: string): Promise<void>;
  refused(witness: string, reason: AlertReason, details: Record<string, unknown>): Promise<void>;
}

export type PushResult =
  | { witness: string; ok: true; lines: string[] }
  | { witness: string; ok: false; status: number | 'unreachable'; refused: boolean; invalid?: string[] };

/**
 * The witness's answer to a checkpoint (one or more signature lines, c2sp.org/tlog-witness): the lines that are
 * valid cosignatures of `body` by `key`, and a description of each that is not.
 */
export function checkCosignatures(
  answer: string,
  body: string,
  key: NoteVerifier,
): { valid: string[]; invalid: string[] } {
  const valid: string[] = [];
  const invalid: string[] = [];
  for (const text of answer.split('\n').filter((l) => l.trim() !== '')) {
    let line: NoteSignature;
    try {
      line = parseSignatureLine(text);
    } catch (err) {
      invalid.push(`not a signature line (${(err as Error).message}): ${JSON.stringify(text.slice(0, 80))}`);
      continue;
    }
    const id = (name: string, keyId: Buffer) => `${name}+${keyId.toString('hex')}`;
    if (line.name !== key.name || !line.keyId.equals(key.keyId)) {
      const configured = id(key.name, key.keyId);
      invalid.push(
        `signed by ${id(line.name, line.keyId)}, not by the key configured for this witness (${configured})`,
      );
    } else if (!signatureVerifies(body, line, key)) invalid.push(`the cosignature of ${line.name} does not verify`);
    else valid.push(line.line);
  }
  if (valid.length === 0 && invalid.length === 0) invalid.push('no cosignature line in the answer');
  return { valid, invalid };
}

export async function pushCheckpoint(
  deps: WitnessPushDeps,
  { url: witness, key }: Witness,
  size: number,
  note: string,
): Promise<PushResult> {
  let old = await deps.lastCosigned(witness);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (old > size) break;
    const proof = old === 0 || old === size ? [] : await deps.consistency(old, size);
    const body = `old ${old}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${note}`;
    let res: Response;
    try {
      res = await fetch(new URL('add-checkpoint', witness.endsWith('/') ? witness : `${witness}/`), {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
    } catch (err) {
      deps.logger.warn(
        { witness, size, err: (err as Error).message },
        'witness unreachable; the checkpoint goes uncosigned by it for now',
      );
      return { witness, ok: false, status: 'unreachable', refused: false };
    }
    const text = await res.text();
    if (res.status === 200) {
      // Only a cosignature that verifies with this witness's key is kept: what is served was checked.
      const { valid, invalid } = checkCosignatures(text, parseNote(note).body, key);
      for (const line of valid) await deps.saveCosignature(size, witness, line);
      if (invalid.length === 0) return { witness, ok: true, lines: valid };
      const details = { status: res.status, size, old, problems: invalid, stored: valid.length };
      await deps.refused(witness, 'invalid_cosignature', details);
      return { witness, ok: false, status: res.status, refused: false, invalid };
    }
    // 409 with the size it holds: this log's idea of the witness was stale; prove from there instead. The size itself
    // when another instance (or worker) on this database sent the same checkpoint first: then old = size asks the
    // witness to compare roots, and it cosigns if they match.
    const held =
      res.status === 409 && /^text\/x\.tlog\.size/.test(res.headers.get('content-type') ?? '')
        ? Number(text.trim())
        : NaN;
    if (Number.isSafeInteger(held) && held !== old && held <= size) {
      old = held;
      continue;
    }
    // 422 (the proof does not verify) or 409 at the same size with another root, or a witness ahead of us:
    // the witness saw a history this log no longer extends.
    const refused = res.status === 422 || res.status === 409;
    const details = { status: res.status, size, old, held: Number.isSafeInteger(held) ? held : null };
    if (refused) await deps.refused(witness, 'inconsistent_history', details);
    else
      deps.logger.error(
        { witness, size, status: res.status, body: text.slice(0, 200) },
        'witness did not accept the checkpoint (check its configuration of this log)',
      );
    return { witness, ok: false, status: res.status, refused };
  }
  await deps.refused(witness, 'inconsistent_history', { status: 409, size, old, held: old });
  return { witness, ok: false, status: 409, refused: true };
}
