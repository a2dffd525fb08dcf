import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface MintOptions {
  sub: string;
  roles: string[];
  /** Written to the `teams` claim (the default JWT_TEAMS_CLAIM) when given. */
  teams?: string[];
  ttlS: number;
  name?: string;
  email?: string;
  issuer?: string;
  audience?: string;
}

/** Signs an HS256 staff token, for the local default and `npm run token`; production tokens come from the identity provider. */
export function mintToken(secret: string, o: MintOptions): string {
  return jwt.sign(
    {
      roles: o.roles,
      ...(o.teams ? { teams: o.teams } : {}),
      ...(o.name ? { name: o.name } : {}),
      ...(o.email ? { email: o.email } : {}),
    },
    secret,
    {
      algorithm: 'HS256',
      subject: o.sub,
      expiresIn: o.ttlS,
      jwtid: randomUUID(),
      ...(o.issuer ? { issuer: o.issuer } : {}),
      ...(o.audience ? { audience: o.audience } : {}),
    },
  );
}
