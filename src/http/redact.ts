/** API key values can appear in a path (`…/apikeys/<key>`): logs show only their last 4 characters. */
const APIKEY_IN_PATH = /(\/apikeys\/)([^/?#]+)/gi;

export function maskSecret(value: string): string {
  return value.length <= 4 ? '****' : `****${value.slice(-4)}`;
}

/** The path as logged: no query string (tokens pasted there must not reach logs), key values masked. */
export function redactPath(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.replace(APIKEY_IN_PATH, (_, prefix: string, key: string) => `${prefix}${maskSecret(key)}`);
}
