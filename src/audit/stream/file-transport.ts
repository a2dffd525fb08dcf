import { open, rename, rm, stat } from 'node:fs/promises';
import type { SinkSpec } from './sinks';
import { SinkError, type Transport } from './transport';

/**
 * NDJSON appended to a file, fsynced before the batch counts as delivered. Past `max_bytes` the file is rotated as
 * logrotate would: path.1 becomes path.2 …, the oldest beyond `keep` is removed, path becomes path.1. A batch is
 * never split across files.
 */
export function fileTransport(spec: SinkSpec): Transport {
  const path = decodeURIComponent(spec.url.pathname);
  return {
    async send(batch) {
      const text = batch.map((o) => `${o.line}\n`).join('');
      try {
        const size = await stat(path).then(
          (s) => s.size,
          () => 0,
        );
        if (size > 0 && size + Buffer.byteLength(text) > spec.maxBytes) await rotate(path, spec.keep);
        const file = await open(path, 'a', 0o640);
        try {
          await file.writeFile(text);
          await file.sync();
        } finally {
          await file.close();
        }
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        throw new SinkError('write_failed', `writing ${path} failed (${String(code ?? 'error')})`, { cause: err });
      }
    },
    close: async () => undefined,
  };
}

async function rotate(path: string, keep: number): Promise<void> {
  await rm(`${path}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(ignoreMissing);
  await rename(path, `${path}.1`);
}

function ignoreMissing(err: unknown): void {
  if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
}
