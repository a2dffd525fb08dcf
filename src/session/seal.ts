import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals a small JSON value for a cookie (AES-256-GCM, key derived from SESSION_SECRET): the browser holds the
 * sign-in transaction without being able to read or change it, and the gateway keeps no row per visitor who
 * merely opened /auth/login.
 */
export interface Sealer {
  seal(value: unknown): string;
  /** undefined when the text was not sealed with this key (tampered, truncated, or from another secret). */
  open(text: string): unknown;
}

export function createSealer(secret: string, purpose: string): Sealer {
  const key = Buffer.from(
    hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `kloudless-gateway ${purpose}`, 32),
  );
  return {
    seal(value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(text) {
      const raw = Buffer.from(text, 'base64url');
      if (raw.length < 29 || raw.length > 4096) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'));
      } catch {
        return undefined;
      }
    },
  };
}
