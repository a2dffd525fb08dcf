import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import type { Database } from './client';
import { CHANNEL_PATTERN } from './listen';

/**
 * The embedded Postgres (PGlite) for the local default and for tests on a machine without a Postgres
 * server. PGlite does not lock its data directory, and two processes writing one would corrupt it, so a
 * lock file does: a second gateway on the same DATA_DIR refuses to start.
 */
export async function openEmbedded(dir: string): Promise<Database> {
  const releaseLock = dir.startsWith('memory://') ? () => undefined : lockDataDir(dir);
  let pg: PGlite;
  try {
    pg = await PGlite.create(dir);
  } catch (err) {
    releaseLock();
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
      releaseLock();
    },
  };
}

function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockFile = join(dir, '..', 'pglite.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lockFile, 'utf8'));
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `the embedded database in ${dir} is in use by process ${holder}; set DATABASE_URL to run several gateways`,
          { cause: err },
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`cannot lock ${lockFile}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
