import type { Logger } from 'pino';

/**
 * The log side of c2sp.org/tlog-witness: hands each new checkpoint to a witness with a consistency proof
 * from the size the witness last cosigned, and keeps the cosignature it returns. A refusal is loud: an
 * inconsistent history is exactly what a witness exists to catch.
 */

export interface WitnessPushDeps {
  logger: Logger;
  timeoutMs: number;
  lastCosigned(witness: string): Promise<number>;
  consistency(from: number, to: number): Promise<Buffer[]>;
  saveCosignature(size: number, witness: string, line: string): Promise<void>;
  refused(witness: string, details: Record<string, unknown>): Promise<void>;
}

export type PushResult = { witness: string; ok: true; lines: string[] } | { witness: string; ok: false; status: number | 'unreachable'; refused: boolean };

export async function pushCheckpoint(deps: WitnessPushDeps, witness: string, size: number, note: string): Promise<PushResult> {
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
      deps.logger.warn({ witness, size, err: (err as Error).message }, 'witness unreachable; the checkpoint goes uncosigned by it for now');
      return { witness, ok: false, status: 'unreachable', refused: false };
    }
    const text = await res.text();
    if (res.status === 200) {
      const lines = text.split('\n').filter((l) => l.startsWith('\u2014 ')).map((l) => `${l}\n`);
      for (const line of lines) await deps.saveCosignature(size, witness, line);
      return { witness, ok: true, lines };
    }
    // 409 with the size it holds: this log's idea of the witness was stale; prove from there instead. The size itself
    // when another instance (or worker) on this database sent the same checkpoint first: then old = size asks the
    // witness to compare roots, and it cosigns if they match.
    const held = res.status === 409 && /^text\/x\.tlog\.size/.test(res.headers.get('content-type') ?? '') ? Number(text.trim()) : NaN;
    if (Number.isSafeInteger(held) && held !== old && held <= size) {
      old = held;
      continue;
    }
    // 422 (the proof does not verify) or 409 at the same size with another root, or a witness ahead of us:
    // the witness saw a history this log no longer extends.
    const refused = res.status === 422 || res.status === 409;
    if (refused) await deps.refused(witness, { status: res.status, size, old, held: Number.isSafeInteger(held) ? held : null });
    else deps.logger.error({ witness, size, status: res.status, body: text.slice(0, 200) }, 'witness did not accept the checkpoint (check its configuration of this log)');
    return { witness, ok: false, status: res.status, refused };
  }
  await deps.refused(witness, { status: 409, size, old, held: old });
  return { witness, ok: false, status: 409, refused: true };
}
