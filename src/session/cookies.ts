import type { Request, Response } from 'express';

/** The header a cookie-authenticated request must carry (CSRF): a cross-site form cannot set it, and CORS never allows it. */
export const CSRF_HEADER = 'X-Requested-With';
export const CSRF_VALUE = 'kloudless-gateway';

export interface CookieNames {
  session: string;
  login: string;
  /** false only for the local default's http://127.0.0.1 redirect URI: browsers keep no Secure cookie from http. */
  secure: boolean;
}

/**
 * `__Host-` makes the browser refuse the cookie unless it is Secure, has Path=/ and no Domain, so no sibling
 * subdomain can set or shadow it. Over http on loopback (the local default) the prefix cannot be used.
 */
export function cookieNames(redirectUri: string): CookieNames {
  const secure = new URL(redirectUri).protocol === 'https:';
  const prefix = secure ? '__Host-' : '';
  return { session: `${prefix}kgw-session`, login: `${prefix}kgw-login`, secure };
}

/**
 * The session cookie is SameSite=Strict: no cross-site request carries it. The sign-in cookie (state, nonce and
 * PKCE verifier, sealed) must come back on the identity provider's redirect, a cross-site navigation: Lax.
 */
export function setCookie(
  res: Response,
  names: CookieNames,
  which: 'session' | 'login',
  value: string,
  maxAgeS: number,
): void {
  const attributes = [
    `${names[which]}=${value}`,
    'Path=/',
    `Max-Age=${maxAgeS}`,
    'HttpOnly',
    ...(names.secure ? ['Secure'] : []),
    which === 'session' ? 'SameSite=Strict' : 'SameSite=Lax',
  ];
  res.append('Set-Cookie', attributes.join('; '));
}

export function clearCookie(res: Response, names: CookieNames, which: 'session' | 'login'): void {
  setCookie(res, names, which, '', 0);
}

/**
 * Every value the request sends for cookie `name`. Two different values (a cookie planted for another path or
 * domain next to ours) are the caller's to sort out: the session code refuses them rather than guess.
 */
export function cookieValues(req: Request, name: string): string[] {
  const header = req.headers.cookie;
  if (!header) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return [...new Set(values)];
}
