import type { Request } from 'express';
import type { AuditKeys } from '../audit/keys';
import type { Principal } from '../auth/principal';
import { createOidcClient, type OidcClient } from '../auth/oidc/client';
import type { Config } from '../config/load';
import { localSecret } from '../secrets/kept';
import type { PrismaClient } from '../generated/prisma/client';
import { GatewayError } from '../errors/codes';
import { cookieNames, cookieValues, type CookieNames } from './cookies';
import { createSealer, type Sealer } from './seal';
import { createSessionStore, type Session, type SessionStore } from './store';

/** Browser sign-in and sessions (issue 17): everything /auth/* and the session half of authentication need. */
export interface Sessions {
  oidc: OidcClient;
  store: SessionStore;
  /** Seals the sign-in transaction cookie. */
  sealer: Sealer;
  names: CookieNames;
  ttlS: number;
  claims: { rolesClaim: string; teamsClaim: string };
  /** Where the identity provider sends the browser after RP-initiated logout: the staff UI. */
  postLogoutRedirectUri: string;
  keys: AuditKeys;
  /** The session the request's cookie names, if any. */
  resolve(req: Request): Promise<SessionLookup>;
}

export type SessionLookup =
  { kind: 'none' } | { kind: 'ended' } | { kind: 'live'; token: string; session: Session; principal: Principal };

/** Undefined when OIDC_ISSUER is unset: then only bearer tokens authenticate, as before. */
export function createSessions(
  config: Config,
  prisma: PrismaClient,
  keys: AuditKeys,
  clock?: () => Date,
): Sessions | undefined {
  if (!config.oidc) return undefined;
  // Production requires SESSION_SECRET (loadConfig); elsewhere one is made once and kept in DATA_DIR.
  const secret = config.session.secret ?? localSecret(config.dataDir, 'local-session-secret');
  const names = cookieNames(config.oidc.redirectUri);
  const store = createSessionStore({
    prisma,
    secret,
    previousSecrets: config.session.previousSecrets,
    ttlS: config.session.ttlS,
    idleS: config.session.idleS,
    clock,
  });
  return {
    oidc: createOidcClient(config.oidc, config.env),
    store,
    sealer: createSealer(secret, 'sign-in transaction', config.session.previousSecrets),
    names,
    ttlS: config.session.ttlS,
    claims: { rolesClaim: config.jwt.rolesClaim, teamsClaim: config.jwt.teamsClaim },
    postLogoutRedirectUri: new URL('/app/', config.oidc.redirectUri).href,
    keys,
    async resolve(req) {
      const values = cookieValues(req, names.session);
      if (values.length === 0) return { kind: 'none' };
      if (values.length > 1)
        throw new GatewayError('unauthenticated', 'The request carries more than one session cookie; sign in again.');
      const token = values[0] as string;
      const session = await store.find(token);
      if (!session) return { kind: 'ended' };
      return { kind: 'live', token, session, principal: { ...session.principal, session: keys.fingerprint(token) } };
    },
  };
}
