import type { AuditKeys } from '../trail/keys';
import { MAX_FIELD_BYTES, MAX_FINGERPRINTS, noteOf } from '../trail/size-bound';

/**
 * Field and query-parameter names whose values are credentials, wherever they appear (README, "What the trail
 * stores"): any name containing pass, pwd, secret, token, jwt, bearer, auth, session, cookie, credential or
 * signature, api key spellings, any name ending in `_key`/`-key` (access_key, private_key…), and exactly `key`,
 * `sig` or `code`. Wider than it needs to be on purpose: a false positive costs a fingerprint in place of a
 * value, a miss stores a secret forever (issue 18, finding 7).
 */
export const CREDENTIAL_NAME =
  /(pass|pwd|secret|token|jwt|bearer|auth|session|cookie|credential|signature|api[_-]?key|access[_-]?key|private[_-]?key|[_-]key$|^key$|^sig$|^code$)/i;
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
 * A body too large to keep is a note of the body as received: its size and the SHA-256 of its canonical JSON,
 * so an investigator holding a copy can show it is the one refused. The body itself is not stored.
 */
export function redactForAudit(keys: AuditKeys, body: unknown): Redacted {
  const known = new Map<string, string>();
  const unhashed = new Set<string>();
  let urlsLeft = MAX_URLS_PARSED;
  // Each value under a credential name becomes a ~90-byte marker: 50,000 zeros (100 KB) would be 4.5 MB to
  // build, serialise and hash. Past MAX_FIELD_BYTES of output the copy is no longer built (only fingerprints are
  // collected) and the body is kept as a note.
  let outputLeft = MAX_FIELD_BYTES;
  const emit = <T>(value: T, bytes: number): T | null => ((outputLeft -= bytes) >= 0 ? value : null);
  const mark = (secret: unknown) => {
    // Only scalars and URL parts come here; String() spells numbers and booleans as JSON does.
    const text = typeof secret === 'string' ? secret : String(secret);
    let fp = known.get(text);
    if (fp === undefined) {
      if (known.size >= MAX_FINGERPRINTS) {
        unhashed.add(text);
        return emit('[redacted]', 13);
      }
      fp = keys.fingerprint(text);
      known.set(text, fp);
    }
    return outputLeft < 0 ? null : emit(`[redacted ${fp}]`, 94);
  };
  let tooDeep = false;
  /** `secret`: under a credential-like name, where every scalar is a secret however it is shaped. */
  const walk = (value: unknown, depth: number, secret: boolean): unknown => {
    if (depth > MAX_DEPTH) {
      tooDeep = true;
      return null;
    }
    if (value === null) return emit(null, 5);
    if (typeof value !== 'object') {
      if (secret) return mark(value);
      if (typeof value !== 'string') return emit(value, 8);
      if (!URLISH.test(value)) return emit(value, value.length + 3);
      if (urlsLeft <= 0) return emit('[redacted]', 13);
      urlsLeft--;
      const redacted = redactUrl(value, (s) => mark(s) ?? '[redacted]');
      return emit(redacted, redacted.length + 3);
    }
    // Plain loops, and nothing built once the output is over budget: a 100 KB body of 25,000 `{}` is walked in
    // a few milliseconds.
    const building = emit(true, 2) ?? false;
    if (Array.isArray(value)) {
      const out: unknown[] | null = building ? new Array<unknown>(value.length) : null;
      for (let i = 0; i < value.length; i++) {
        const v = walk(value[i], depth + 1, secret);
        if (out) out[i] = v;
      }
      return out;
    }
    const out: Record<string, unknown> | null = building ? {} : null;
    for (const k of Object.keys(value)) {
      const v = walk((value as Record<string, unknown>)[k], depth + 1, secret || CREDENTIAL_NAME.test(k));
      if (out && emit(k, k.length + 4) !== null)
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  const result = (value: unknown): Redacted => ({
    value,
    fingerprints: [...known.values()],
    fingerprintsDropped: unhashed.size,
  });
  if (body === undefined || body === null) return result(null);
  const value = walk(body, 0, false);
  if (tooDeep) return result({ omitted: true, reason: `nested deeper than ${MAX_DEPTH} levels` });
  // Too large to keep: a note of the body as received (the copy was not built), its size and SHA-256.
  if (outputLeft < 0) return result(noteOf(body));
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
