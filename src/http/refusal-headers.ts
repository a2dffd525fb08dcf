import type { RefusalHints } from '../errors/codes';

/** The one place a refusal's hints become HTTP headers (RFC 9110 Retry-After and Allow, RFC 6750 WWW-Authenticate). */
export function refusalHeaders(hints: RefusalHints): Record<string, string> {
  const headers: Record<string, string> = {};
  if (hints.retryAfterS !== undefined) headers['Retry-After'] = String(hints.retryAfterS);
  if (hints.allow) headers.Allow = hints.allow.join(', ');
  if (hints.location) headers.Location = hints.location;
  if (hints.challenge) {
    const { scheme, error, description } = hints.challenge;
    headers['WWW-Authenticate'] = error
      ? `${scheme} error="${error}"${description ? `, error_description="${description}"` : ''}`
      : scheme;
  }
  return headers;
}
