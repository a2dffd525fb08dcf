import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client';
import type { Principal } from '../auth/principal';

/** What a session knows about its person: the Principal minus per-request fields. */
export type SessionPrincipal = Pick<Principal, 'sub' | 'name' | 'email' | 'roles' | 'teams' | 'issuer'>;

export interface Session {
  principal: SessionPrincipal;
  idToken: string | null;
  createdAt: Date;
  expiresAt: Date;
  idleExpiresAt: Date;
}

export interface SessionStore {
  /** A new session with a fresh random id (never one the browser offered: no fixation); returns the cookie value. */
  create(principal: SessionPrincipal, idToken: string | null): Promise<string>;
  /** The live session for a cookie value, its idle clock restarted; undefined when unknown, ended or expired. */
  find(token: string): Promise<Session | undefined>;
  /** Ends the session on every instance at once: the row is gone. */
  delete(token: string): Promise<Session | undefined>;
}

/** 32 random bytes, base64url: anything else in the cookie is refused without a database read. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface SessionStoreOptions {
  prisma: PrismaClient;
  secret: string;
  /** SESSION_SECRETS_PREVIOUS: a session keyed under one of them is re-keyed under `secret` when next seen. */
  previousSecrets?: string[];
  ttlS: number;
  idleS: number;
  clock?: () => Date;
}

export function createSessionStore(o: SessionStoreOptions): SessionStore {
  const clock = o.clock ?? (() => new Date());
  const keyOf = (secret: string) =>
    Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'kloudless-gateway session id', 32));
  const key = keyOf(o.secret);
  const previousKeys = (o.previousSecrets ?? []).map(keyOf);
  // The database holds only this: a stolen copy of the table signs no one in.
  const hashWith = (k: Buffer, token: string) => createHmac('sha256', k).update(token, 'utf8').digest('hex');
  const idHash = (token: string) => hashWith(key, token);
  /** The row of `token` under the current secret, or under a previous one, then moved to the current secret. */
  async function rowOf(token: string) {
    const id = idHash(token);
    const row = await o.prisma.browserSession.findUnique({ where: { idHash: id } });
    if (row) return row;
    for (const previous of previousKeys) {
      const old = hashWith(previous, token);
      const moved = await o.prisma.browserSession.updateMany({ where: { idHash: old }, data: { idHash: id } });
      if (moved.count > 0) return o.prisma.browserSession.findUnique({ where: { idHash: id } });
    }
    return null;
  }
  // Restarting the idle clock is a write; once a minute (or a tenth of the idle time) is precise enough.
  const touchEveryMs = Math.min(60_000, (o.idleS * 1000) / 10);

  const toSession = (row: {
    principal: unknown;
    idToken: string | null;
    createdAt: Date;
    lastSeenAt: Date;
    expiresAt: Date;
  }): Session => ({
    principal: row.principal as SessionPrincipal,
    idToken: row.idToken,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    idleExpiresAt: new Date(Math.min(row.expiresAt.getTime(), row.lastSeenAt.getTime() + o.idleS * 1000)),
  });

  return {
    async create(principal, idToken) {
      const now = clock();
      const token = randomBytes(32).toString('base64url');
      await o.prisma.browserSession.deleteMany({ where: { expiresAt: { lt: now } } });
      await o.prisma.browserSession.create({
        data: {
          idHash: idHash(token),
          sub: principal.sub,
          principal: principal as object,
          idToken,
          createdAt: now,
          lastSeenAt: now,
          expiresAt: new Date(now.getTime() + o.ttlS * 1000),
        },
      });
      return token;
    },

    async find(token) {
      if (!TOKEN.test(token)) return undefined;
      const id = idHash(token);
      const row = await rowOf(token);
      if (!row) return undefined;
      const now = clock();
      const session = toSession(row);
      if (session.idleExpiresAt <= now) {
        await o.prisma.browserSession.deleteMany({ where: { idHash: id } });
        return undefined;
      }
      if (now.getTime() - row.lastSeenAt.getTime() >= touchEveryMs) {
        // updateMany: a logout on another instance between the read and this write leaves nothing to touch.
        const touched = await o.prisma.browserSession.updateMany({ where: { idHash: id }, data: { lastSeenAt: now } });
        if (touched.count === 0) return undefined;
        return toSession({ ...row, lastSeenAt: now });
      }
      return session;
    },

    async delete(token) {
      if (!TOKEN.test(token)) return undefined;
      const id = idHash(token);
      const row = await rowOf(token);
      await o.prisma.browserSession.deleteMany({ where: { idHash: id } });
      return row ? toSession(row) : undefined;
    },
  };
}
