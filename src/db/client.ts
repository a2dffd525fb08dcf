import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import { listenPostgres, type ListenHandlers, type Listening } from './listen';

export type DatabaseKind = 'postgres' | 'embedded';

/** A session on one connection, for what Prisma's query API does not do: multi-statement migration scripts. */
export interface ScriptSession {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(script: string): Promise<void>;
}

export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
  /**
   * For reading the audit trail: a pool of its own with a `statement_timeout`, so reviewers' queries can neither
   * take the connections audit writes need nor run unbounded (issue 18, finding 3). The embedded database has one
   * connection: there it is `prisma`.
   */
  readPrisma: PrismaClient;
  /** Runs `work` in one transaction on one connection. */
  transactionScript<T>(work: (session: ScriptSession) => Promise<T>): Promise<T>;
  /**
   * LISTEN on `channel` (src/db/listen.ts): on Postgres over a connection of its own, which can be lost; on the
   * embedded database within the process (PGlite delivers its own NOTIFYs; there is no connection to lose).
   */
  listen(channel: string, handlers: ListenHandlers): Promise<Listening>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string;
  dataDir: string;
  poolSize: number;
  /** Longest wait for a pooled connection before a query fails (a hung or exhausted database must not hang requests). */
  connectTimeoutMs: number;
  /**
   * Longest wait for a lock before a statement fails (Postgres `lock_timeout`; defaults to connectTimeoutMs). An
   * audit append queued behind a lock must fail while its caller still waits for it, not commit after the caller
   * was told it failed.
   */
  lockTimeoutMs?: number;
  /** The audit read pool: its size and its statements' `statement_timeout`. */
  read?: { poolSize: number; statementTimeoutMs: number };
}

/** Real Postgres when a URL is given; otherwise the embedded Postgres (PGlite) in DATA_DIR. Same schema, same code above. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  // The embedded Postgres is loaded only when it is used.
  return options.url
    ? openPostgres(options.url, options)
    : (await import('./embedded')).openEmbedded(join(options.dataDir, 'pglite'));
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pg = await import('pg');
  const poolConfig = {
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'kloudless-gateway',
    // Audit appends rely on READ COMMITTED (src/audit/trail/store.ts) and on lock waits being bounded. Set for the
    // session at connect time, they override a database or role default and cost no round trip per transaction.
    options: `-c default_transaction_isolation=read\\ committed -c lock_timeout=${Math.round(options.lockTimeoutMs ?? options.connectTimeoutMs)}`,
  };
  const prisma = new PrismaClient({ adapter: new PrismaPg(poolConfig) });
  const read = options.read ?? { poolSize: 3, statementTimeoutMs: 10_000 };
  const readPrisma = new PrismaClient({
    adapter: new PrismaPg({
      ...poolConfig,
      max: read.poolSize,
      application_name: 'kloudless-gateway-audit-read',
      options: `${poolConfig.options} -c statement_timeout=${Math.round(read.statementTimeoutMs)}`,
    }),
  });
  // A pooler that drops startup options (PgBouncer's ignore_startup_parameters) must not quietly lose them.
  const disconnect = () => Promise.all([prisma.$disconnect(), readPrisma.$disconnect()]);
  const [session] = await prisma.$queryRaw<{ isolation: string; lock_timeout: string }[]>`
    SELECT current_setting('transaction_isolation') AS isolation, current_setting('lock_timeout') AS lock_timeout`.catch(
    async (err: unknown) => {
      await disconnect().catch(() => undefined); // start-up may try again (src/startup/wait-for-database.ts)
      throw err;
    },
  );
  if (session?.isolation !== 'read committed' || session.lock_timeout === '0') {
    await prisma.$disconnect();
    throw new Error(
      `the audit store needs READ COMMITTED sessions with a lock_timeout, and this database gives ${session?.isolation}, lock_timeout ${session?.lock_timeout}`,
    );
  }
  return {
    kind: 'postgres',
    prisma,
    readPrisma,
    async transactionScript(work) {
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: options.connectTimeoutMs,
        application_name: 'kloudless-gateway-migrate',
      });
      await client.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async (sql, params) => (await client.query(sql, params)).rows,
          exec: async (script) => void (await client.query(script)),
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await client.end();
      }
    },
    listen: (channel, handlers) => listenPostgres(url, channel, handlers, options.connectTimeoutMs),
    close: async () => {
      await readPrisma.$disconnect();
      await prisma.$disconnect();
    },
  };
}
