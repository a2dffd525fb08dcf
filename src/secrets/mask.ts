/** API key values can appear in a path (`…/apikeys/<key>`): logs show only their last 4 characters. */
const APIKEY_IN_PATH = /(\/apikeys\/)([^/?#]+)/gi;

export function maskSecret(value: string): string {
  return value.length <= 4 ? '****' : `****${value.slice(-4)}`;
}

/**
 * The path as logged and audited: no query string (tokens pasted there must not reach logs), no fragment (it
 * is not part of what was served: issue 18, finding 6), no scheme or host from an absolute-form request target
 * (the client chose them), key values masked.
 */
export function redactPath(url: string): string {
  const path = (url.split(/[?#]/)[0] ?? '').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') || '/';
  return path.replace(APIKEY_IN_PATH, (_, prefix: string, key: string) => `${prefix}${maskSecret(key)}`);
}

/**
 * API key values in a response body, masked to their last 4 characters for callers without
 * `apikeys.reveal`. Covers a single key object (create) and a page of them (list).
 */
export function maskApiKeys(body: Buffer): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  const mask = (o: unknown) => {
    if (o && typeof o === 'object' && typeof (o as { key?: unknown }).key === 'string') {
      (o as { key: string }).key = maskSecret((o as { key: string }).key);
    }
  };
  mask(parsed);
  const objects = (parsed as { objects?: unknown } | null)?.objects;
  if (Array.isArray(objects)) objects.forEach(mask);
  return Buffer.from(JSON.stringify(parsed));
}
