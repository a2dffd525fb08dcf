import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client';
import type { Principal } from '../auth/principal';

/** What a session knows about its person: the Principal minus per-request fields. */
export type SessionPrincipal = Pick<Principal, 'sub' | 'name' | 'email' | 'roles' | 'teams' | 'issuer'>;

export interface Session {
  principal: SessionPrincipal;
  createdAt: Date;
  expiresAt: Date;
  idleExpiresAt: Date;
}

export interface SessionStore {
  /** A new session with a fresh random id (never one the browser offered: no fixation); returns the cookie value. */
  create(principal: SessionPrincipal): Promise<string>;
  /** The live session for a cookie value, its idle clock restarted; undefined when unknown, ended or expired. */
  find(token: string): Promise<Session | undefined>;
  /** Ends the session on every instance at once: the row is gone. */
  delete(token: string): Promise<Session | undefined>;
  /** Ends every session of one person (issuer and subject), on every instance; returns how many ended. */
  deleteAllOf(person: { issuer: string; sub: string }): Promise<number>;
  /**
   * Records a sign-in transaction (by its state) as used, until `until`; false when it was used already: the
   * sealed cookie that carries it can be copied, this row cannot (issue 24).
   */
  useSignIn(state: string, until: Date): Promise<boolean>;
}

/**
 * A used sign-in's state, hashed: unkeyed, so a rotation of SESSION_SECRET cannot make a used one look new (the
 * state alone signs no one in: it is only good with the sealed cookie it came in).
 */
const stateHash = (state: string) => createHash('sha256').update(`sign-in state ${state}`, 'utf8').digest('hex');

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

  const toSession = (row: { principal: unknown; createdAt: Date; lastSeenAt: Date; expiresAt: Date }): Session => ({
    principal: row.principal as SessionPrincipal,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    idleExpiresAt: new Date(Math.min(row.expiresAt.getTime(), row.lastSeenAt.getTime() + o.idleS * 1000)),
  });

  return {
    async create(principal) {
      const now = clock();
      const token = randomBytes(32).toString('base64url');
      await o.prisma.browserSession.deleteMany({ where: { expiresAt: { lt: now } } });
      await o.prisma.browserSession.create({
        data: {
          idHash: idHash(token),
          sub: principal.sub,
          principal: principal as object,
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

    async deleteAllOf(person) {
      // A person is (issuer, subject): the same `sub` from another issuer is someone else (src/auth/person.ts).
      return o.prisma.$executeRaw`
        DELETE FROM browser_sessions WHERE sub = ${person.sub} AND coalesce(principal->>'issuer', '') = ${person.issuer}`;
    },

    async useSignIn(state, until) {
      const now = clock();
      await o.prisma.signInUsed.deleteMany({ where: { expiresAt: { lt: now } } });
      const inserted = await o.prisma.$executeRaw`
        INSERT INTO sign_in_used (state_hash, expires_at) VALUES (${stateHash(state)}, ${until})
        ON CONFLICT DO NOTHING`;
      return inserted === 1;
    },
  };
}
