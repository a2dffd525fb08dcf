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

/** Seals with `secret`; opens what `secret` or one of `previous` sealed (a sign-in begun before a rotation). */
export function createSealer(secret: string, purpose: string, previous: string[] = []): Sealer {
  const keyOf = (s: string) =>
    Buffer.from(hkdfSync('sha256', Buffer.from(s, 'utf8'), Buffer.alloc(0), `kloudless-gateway ${purpose}`, 32));
  const key = keyOf(secret);
  const keys = [key, ...previous.map(keyOf)];
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
      for (const k of keys) {
        try {
          const decipher = createDecipheriv('aes-256-gcm', k, raw.subarray(0, 12));
          decipher.setAuthTag(raw.subarray(12, 28));
          return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'));
        } catch {
          // not this key's
        }
      }
      return undefined;
    },
  };
}
