import type { Database } from './client';
import { readMigrations, type Migration } from './migrate';

export interface SchemaStatus {
  /** Migrations in prisma/migrations the database has not applied, oldest first. */
  missing: string[];
  /** Applied migrations whose file was edited since (the database no longer matches the files). */
  changed: string[];
}

/**
 * What the database lacks, read only (SELECT on `_prisma_migrations`): a runtime role that may not create tables
 * can still tell whether the schema is the one this build expects.
 */
export async function schemaStatus(db: Database, migrations: Migration[] = readMigrations()): Promise<SchemaStatus> {
  return db.transactionScript(async (session) => {
    const [table] = await session.query<{ exists: boolean }>(
      `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS exists`,
    );
    const rows = table?.exists
      ? await session.query<{ migration_name: string; checksum: string }>(
          'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
        )
      : [];
    const applied = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    return {
      missing: migrations.filter((m) => !applied.has(m.name)).map((m) => m.name),
      changed: migrations.filter((m) => applied.has(m.name) && applied.get(m.name) !== m.checksum).map((m) => m.name),
    };
  });
}

/** Why start-up stops when MIGRATE_ON_START is off and the schema is not current; undefined when it is. */
export function schemaProblem(status: SchemaStatus): string | undefined {
  const problems = [
    ...(status.missing.length > 0
      ? [
          `the database lacks ${status.missing.length} migration(s) this build needs: ${status.missing.join(', ')}. ` +
            'Run `npm run db:migrate` with a DATABASE_URL whose role owns the schema (docs/operations.md, ' +
            '"Database roles and migrations"), or set MIGRATE_ON_START=true',
        ]
      : []),
    ...(status.changed.length > 0
      ? [
          `migration(s) changed after they were applied: ${status.changed.join(', ')} (the files no longer match the database)`,
        ]
      : []),
  ];
  return problems.length > 0 ? problems.join('; ') : undefined;
}
