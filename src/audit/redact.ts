import type { AuditKeys } from './keys';

/** Field and query-parameter names whose values are credentials, wherever they appear. */
const CREDENTIAL_NAME = /(pass(word)?|secret|token|api[_-]?key|apikey|^key$|signature|^sig$|credential|auth|session|^code$)/i;
const MAX_STORED_BODY_BYTES = 16 * 1024;
const MAX_DEPTH = 8;

export interface Redacted {
  value: unknown;
  fingerprints: string[];
}

/**
 * A copy of a request body safe to store: everything under a credential-like name, URL user names and
 * passwords, and credential-like URL query or fragment parameters are replaced by their HMAC fingerprint,
 * so a reviewer holding a leaked secret can still find where it appeared. Any string a URL parser accepts
 * is treated as a URL (the upstream may be as lenient). Deep or oversized bodies are stored as a note only.
 */
export function redactForAudit(keys: AuditKeys, body: unknown): Redacted {
  const fingerprints: string[] = [];
  const mark = (secret: unknown) => {
    const fp = keys.fingerprint(typeof secret === 'string' ? secret : JSON.stringify(secret) ?? String(secret));
    fingerprints.push(fp);
    return `[redacted ${fp}]`;
  };
  let tooDeep = false;
  // Everything under a credential-like name is secret, however it is shaped.
  const markAll = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) return (tooDeep = true), null;
    if (Array.isArray(value)) return value.map((v) => markAll(v, depth + 1));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markAll(v, depth + 1)]));
    return value === null ? null : mark(value);
  };
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) {
      tooDeep = true;
      return null;
    }
    if (typeof value === 'string') return redactUrl(value, mark);
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, CREDENTIAL_NAME.test(k) ? markAll(v, depth + 1) : walk(v, depth + 1)]));
    }
    return value;
  };
  if (body === undefined || body === null) return { value: null, fingerprints };
  const value = walk(body, 0);
  if (tooDeep) return { value: { omitted: true, reason: `nested deeper than ${MAX_DEPTH} levels` }, fingerprints };
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > MAX_STORED_BODY_BYTES) return { value: { omitted: true, reason: 'too large', bytes: size }, fingerprints };
  return { value, fingerprints };
}

function redactUrl(text: string, mark: (secret: string) => string): string {
  if (!/[:@?#]/.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.username) {
    url.username = mark(decodeOrRaw(url.username));
    changed = true;
  }
  if (url.password) {
    url.password = mark(decodeOrRaw(url.password));
    changed = true;
  }
  for (const [name, value] of [...url.searchParams]) {
    if (CREDENTIAL_NAME.test(name)) {
      url.searchParams.set(name, mark(value));
      changed = true;
    }
  }
  if (url.hash) {
    const fragment = new URLSearchParams(url.hash.slice(1));
    if ([...fragment.keys()].some((k) => CREDENTIAL_NAME.test(k))) {
      for (const [name, value] of [...fragment]) if (CREDENTIAL_NAME.test(name)) fragment.set(name, mark(value));
      url.hash = fragment.toString();
      changed = true;
    }
  }
  return changed ? url.href : text;
}

/** `https://%zz@host/` is a URL a parser accepts, but its user name is no valid percent-encoding: fingerprint it as sent. */
function decodeOrRaw(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
