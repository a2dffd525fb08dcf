import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A secret made once and kept in `dir/name` with owner-only permissions: the local default's keys in DATA_DIR.
 * Several processes can start at once on one DATA_DIR (WORKERS, or two gateways), so the secret is written whole
 * under a name of its own and then linked into place: a reader never sees a half-written file, and when two
 * processes make one, the first link wins and both return it.
 */
export function keptSecret(dir: string, name: string, make: () => string): string {
  const file = join(dir, name);
  const kept = readIfPresent(file);
  if (kept !== undefined) return kept;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const draft = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(draft, make(), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(draft);
  }
  return readFileSync(file, 'utf8');
}

/** An Ed25519 private key (PEM, PKCS#8) made once and kept in `dir/name`: the local log key, a witness's own key. */
export function keptEd25519KeyPem(dir: string, name: string): string {
  return keptSecret(dir, name, () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
}

/** A random 32-byte secret kept in DATA_DIR (the local default's keys, made once). */
export function localSecret(dataDir: string, name: string): string {
  return keptSecret(dataDir, name, () => `${randomBytes(32).toString('base64url')}\n`).trim();
}
