/** Who is calling, as established from a verified staff token. */
export interface Principal {
  sub: string;
  name?: string;
  email?: string;
  roles: string[];
  /** The teams the caller belongs to (JWT_TEAMS_CLAIM): what a `team`-scoped role may reach. */
  teams: string[];
  jti?: string;
  issuer?: string;
  /** Set when the caller is a signed-in browser (issue 17): the HMAC fingerprint of its session id, never the id. */
  session?: string;
}

/** The claims that name a person: refused whole when their text is not clean (src/auth/claim-text.ts). */
export const IDENTITY_CLAIMS = ['sub', 'iss', 'email', 'name', 'preferred_username'] as const;

const ROLE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Reads roles from a claim path such as `roles` or `realm_access.roles`; a string may hold several, space- or comma-separated. */
export function rolesFromClaims(claims: Record<string, unknown>, claimPath: string): string[] {
  let value: unknown = claims;
  for (const key of claimPath.split('.')) {
    value =
      value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  }
  const raw = typeof value === 'string' ? value.split(/[\s,]+/) : Array.isArray(value) ? value : [];
  return [...new Set(raw.filter((r): r is string => typeof r === 'string' && ROLE_PATTERN.test(r)))];
}

export function principalFromClaims(claims: Record<string, unknown>, rolesClaim: string, teams: string[]): Principal {
  const text = (key: string) =>
    typeof claims[key] === 'string' && claims[key] !== '' ? (claims[key] as string) : undefined;
  return {
    sub: claims.sub as string,
    name: text('name') ?? text('preferred_username'),
    email: text('email'),
    roles: rolesFromClaims(claims, rolesClaim),
    teams,
    jti: text('jti'),
    issuer: text('iss'),
  };
}
