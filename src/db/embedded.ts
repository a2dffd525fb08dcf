import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import lockfile from 'proper-lockfile';
import { PrismaClient } from '../generated/prisma/client';
import type { Database } from './client';
import { CHANNEL_PATTERN } from './listen';

/**
 * The embedded Postgres (PGlite) for the local default and for tests on a machine without a Postgres
 * server. PGlite does not lock its data directory, and two processes writing one would corrupt it, so a
 * lock does (below): a second gateway on the same DATA_DIR refuses to start.
 */
export async function openEmbedded(dir: string): Promise<Database> {
  const releaseLock = dir.startsWith('memory://') ? async () => undefined : await lockDataDir(dir);
  let pg: PGlite;
  try {
    pg = await PGlite.create(dir);
  } catch (err) {
    await releaseLock();
    throw err;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pg) });
  return {
    kind: 'embedded',
    prisma,
    readPrisma: prisma,
    transactionScript: (work) =>
      pg.transaction((tx) =>
        work({
          query: async <T>(sql: string, params?: unknown[]) => (await tx.query<T>(sql, params)).rows,
          exec: async (script: string) => void (await tx.exec(script)),
        }),
      ),
    async listen(channel, handlers) {
      if (!CHANNEL_PATTERN.test(channel)) throw new Error(`not a channel name: ${channel}`);
      // One process, one database: a NOTIFY committed through Prisma reaches this callback once the commit returns.
      const unlisten = await pg.listen(channel, (payload) => handlers.notify(payload));
      return { heartbeat: async () => undefined, close: () => unlisten() };
    },
    async close() {
      await prisma.$disconnect();
      await pg.close();
      await releaseLock();
    },
  };
}

/**
 * A holder refreshes the lock every STALE_MS / 2; a lock not refreshed for STALE_MS is a dead holder's, taken over.
 * Generous: PGlite runs synchronously in the event loop, and a holder stalled past it would lose its lock.
 */
const STALE_MS = 20_000;

/**
 * The data directory's lock (proper-lockfile: a directory made atomically, its mtime refreshed while held). After a
 * crash the next start waits for the lock to go stale (at most STALE_MS) and takes it over; two starters taking
 * over one stale lock cannot both win, and a holder whose lock was taken from it (its event loop stalled past
 * STALE_MS) learns of it and stops rather than share the directory.
 */
export async function lockDataDir(
  dir: string,
  { staleMs = STALE_MS, waitMs = STALE_MS * 1.2 }: { staleMs?: number; waitMs?: number } = {},
): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    return await lockfile.lock(dir, {
      lockfilePath: join(dir, '..', 'pglite.lockdir'),
      realpath: false,
      stale: staleMs,
      retries: { retries: Math.ceil(waitMs / 250), factor: 1, minTimeout: 250, maxTimeout: 250 },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    throw new Error(
      `the embedded database in ${dir} is in use by another process; set DATABASE_URL to run several gateways`,
      { cause: err },
    );
  }
}
