/**
 * `npm run db:migrate` (in the image: `node dist/commands/db-migrate.js`): applies pending migrations to DATABASE_URL
 * (or DATABASE_URL_FILE) as its own step, under a role that owns the schema, before the gateway starts with
 * MIGRATE_ON_START=false under its least-privilege role. Reads nothing else: a migration job needs no gateway secrets.
 * Exit 0 applied or nothing to do, 78 (EX_CONFIG) no database named, 1 a migration failed. One JSON line on stdout,
 * shaped like the gateway's own (docs/operations.md, Log schema).
 */
import { readSecretFile } from '../config/load';
import { openDatabase } from '../db/client';
import { applyMigrations } from '../db/migrate';
import { pinoShapedLine } from '../logging/process-lines';

async function main(): Promise<number> {
  const problems: string[] = [];
  const file = process.env.DATABASE_URL_FILE || undefined;
  const url = file ? readSecretFile('DATABASE_URL', file, problems) : process.env.DATABASE_URL || undefined;
  if (!url && problems.length === 0) problems.push('DATABASE_URL (or DATABASE_URL_FILE) is required');
  if (problems.length > 0) {
    write('error', { code: 'config_invalid', problems }, 'db:migrate: no database to migrate');
    return 78;
  }
  const database = await openDatabase({ url, dataDir: '.', poolSize: 1, connectTimeoutMs: 10_000 });
  try {
    const applied = await applyMigrations(database);
    write('info', { migrations: applied }, applied.length > 0 ? 'migrations applied' : 'schema is current');
    return 0;
  } finally {
    await database.close();
  }
}

const write = (...line: Parameters<typeof pinoShapedLine>) => process.stdout.write(pinoShapedLine(...line));

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    write('fatal', { code: 'migration_failed', err: { message: (err as Error).message } }, 'db:migrate failed');
    process.exit(1);
  },
);
