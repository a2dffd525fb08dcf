import type { AuditKeys } from './keys';

/** Field and query-parameter names whose values are credentials, wherever they appear. */
const CREDENTIAL_NAME = /(pass(word)?|secret|token|api[_-]?key|apikey|^key$|signature|^sig$|credential|auth|session|^code$)/i;
const MAX_STORED_BODY_BYTES = 16 * 1024;

export interface Redacted {
  value: unknown;
  fingerprints: string[];
}

/**
 * A copy of a request body safe to store: credential-like fields, URL passwords and credential-like
 * URL query values are replaced by their HMAC fingerprint, so a reviewer holding a leaked secret can
 * still find where it appeared. Oversized bodies are stored as a note of their size only.
 */
export function redactForAudit(keys: AuditKeys, body: unknown): Redacted {
  const fingerprints: string[] = [];
  const mark = (secret: string) => {
    const fp = keys.fingerprint(secret);
    fingerprints.push(fp);
    return `[redacted ${fp}]`;
  };
  const walk = (value: unknown, name: string, depth: number): unknown => {
    if (depth > 8) return '[too deep]';
    if (typeof value === 'string') return CREDENTIAL_NAME.test(name) ? mark(value) : redactUrl(value, mark);
    if (Array.isArray(value)) return value.map((v) => walk(v, name, depth + 1));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, walk(v, k, depth + 1)]));
    }
    return value;
  };
  if (body === undefined || body === null) return { value: null, fingerprints };
  const size = Buffer.byteLength(JSON.stringify(body));
  if (size > MAX_STORED_BODY_BYTES) return { value: { omitted: true, bytes: size }, fingerprints };
  return { value: walk(body, '', 0), fingerprints };
}

function redactUrl(text: string, mark: (secret: string) => string): string {
  if (!/^https?:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.password) {
    url.password = mark(decodeURIComponent(url.password));
    changed = true;
  }
  for (const [name, value] of [...url.searchParams]) {
    if (CREDENTIAL_NAME.test(name)) {
      url.searchParams.set(name, mark(value));
      changed = true;
    }
  }
  return changed ? url.toString() : text;
}
