import type { AuditKeys } from './keys';
import { MAX_FINGERPRINTS } from './bound';

/**
 * Field and query-parameter names whose values are credentials, wherever they appear (README, "What the trail
 * stores"): any name containing pass, pwd, secret, token, jwt, bearer, auth, session, cookie, credential or
 * signature, api key spellings, any name ending in `_key`/`-key` (access_key, private_key…), and exactly `key`,
 * `sig` or `code`. Wider than it needs to be on purpose: a false positive costs a fingerprint in place of a
 * value, a miss stores a secret forever (issue 18, finding 7).
 */
export const CREDENTIAL_NAME = /(pass|pwd|secret|token|jwt|bearer|auth|session|cookie|credential|signature|api[_-]?key|access[_-]?key|private[_-]?key|[_-]key$|^key$|^sig$|^code$)/i;
const MAX_DEPTH = 8;
/**
 * Strings that could be URLs parsed per body. Past it, a string that looks like a URL is stored as `[redacted]`
 * without parsing: a body of thousands of tiny URLs must not hold the event loop (issue 18, finding 1).
 */
export const MAX_URLS_PARSED = 256;

export interface Redacted {
  value: unknown;
  /** Distinct fingerprints, at most MAX_FINGERPRINTS. */
  fingerprints: string[];
  /** Distinct secret values stored as `[redacted]` without a fingerprint, past the cap. */
  fingerprintsDropped: number;
}

/**
 * A copy of a request body safe to store: everything under a credential-like name, URL user names and
 * passwords, and credential-like URL query or fragment parameters are replaced by their HMAC fingerprint,
 * so a reviewer holding a leaked secret can still find where it appeared. Any string a URL parser accepts
 * is treated as a URL (the upstream may be as lenient). Deep bodies are stored as a note only; the size of
 * what is kept is bounded for every entry in one place (bound.ts).
 *
 * The work is bounded whatever the body holds: each distinct secret is hashed once, at most MAX_FINGERPRINTS
 * are hashed (the rest become `[redacted]` and are counted), and at most MAX_URLS_PARSED strings are parsed.
 * Before this, 50,000 copies of one value under `token` took 330 ms of HMACs and stored 50,000 fingerprints.
 */
export function redactForAudit(keys: AuditKeys, body: unknown): Redacted {
  const known = new Map<string, string>();
  const unhashed = new Set<string>();
  let urlsLeft = MAX_URLS_PARSED;
  const mark = (secret: unknown) => {
    const text = typeof secret === 'string' ? secret : (JSON.stringify(secret) ?? String(secret));
    let fp = known.get(text);
    if (fp === undefined) {
      if (known.size >= MAX_FINGERPRINTS) {
        unhashed.add(text);
        return '[redacted]';
      }
      fp = keys.fingerprint(text);
      known.set(text, fp);
    }
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
    if (typeof value === 'string') {
      if (!URLISH.test(value)) return value;
      if (urlsLeft <= 0) return '[redacted]';
      urlsLeft--;
      return redactUrl(value, mark);
    }
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, CREDENTIAL_NAME.test(k) ? markAll(v, depth + 1) : walk(v, depth + 1)]));
    }
    return value;
  };
  const result = (value: unknown): Redacted => ({ value, fingerprints: [...known.values()], fingerprintsDropped: unhashed.size });
  if (body === undefined || body === null) return result(null);
  const value = walk(body, 0);
  if (tooDeep) return result({ omitted: true, reason: `nested deeper than ${MAX_DEPTH} levels` });
  return result(value);
}

const URLISH = /[:@?#]/;

function redactUrl(text: string, mark: (secret: string) => string): string {
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
