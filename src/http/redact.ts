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
