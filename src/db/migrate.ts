import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, ScriptSession } from './client';

/** prisma/migrations, from src/db or dist/db alike. */
export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'prisma', 'migrations');

/** Any constant shared by every instance: the key of the advisory lock migrations run under. */
const MIGRATION_LOCK = 7_319_004_211;

// Prisma's own bookkeeping table, so `prisma migrate deploy` and `prisma migrate status` agree with us.
const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies the pending migrations in one transaction under an advisory lock, so instances starting
 * together apply each migration exactly once (the others wait, then find nothing to do). A migration
 * edited after it was applied stops start-up: the database no longer matches the files.
 */
export async function applyMigrations(db: Database, migrations = readMigrations()): Promise<string[]> {
  return db.transactionScript(async (session) => {
    // READ COMMITTED whatever the database default: after waiting for the lock, see what the holder created.
    await session.exec('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await session.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await session.exec(BOOKKEEPING);
    const applied = await appliedChecksums(session);
    const pending: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum)
          throw new Error(`migration ${migration.name} was changed after it was applied`);
        continue;
      }
      await session.exec(migration.sql);
      await session.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 1)',
        [randomUUID(), migration.checksum, migration.name],
      );
      pending.push(migration.name);
    }
    return pending;
  });
}

async function appliedChecksums(session: ScriptSession): Promise<Map<string, string>> {
  const rows = await session.query<{ migration_name: string; checksum: string }>(
    'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
  );
  return new Map(rows.map((r) => [r.migration_name, r.checksum]));
}
