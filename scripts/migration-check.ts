/**
 * `npm run db:check`: fails when prisma/schema.prisma describes a database the migrations do not build
 * (a model changed without `npm run db:migration`), printing the SQL a new migration would need. CI runs it
 * so drift is caught before start-up applies migrations that no longer match the generated client.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR, openSchemaEngine, pendingSchemaChange } from './schema-engine';

/** What makes the migrations folder unusable before any SQL is compared. */
function folderProblems(): string[] {
  if (!existsSync(MIGRATIONS_DIR)) return [`${MIGRATIONS_DIR} does not exist`];
  const problems = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !existsSync(join(MIGRATIONS_DIR, d.name, 'migration.sql')))
    .map((d) => `migration ${d.name} has no migration.sql`);
  // Prisma refuses to deploy without the lock file, whatever the SQL says.
  if (!existsSync(join(MIGRATIONS_DIR, 'migration_lock.toml')))
    problems.push(`${join(MIGRATIONS_DIR, 'migration_lock.toml')} is missing`);
  return problems;
}

async function main(): Promise<number> {
  const problems = folderProblems();
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return 1;
  }
  const se = await openSchemaEngine();
  try {
    const sql = await pendingSchemaChange(se);
    if (!sql) {
      process.stdout.write('ok: the migrations build exactly what prisma/schema.prisma describes\n');
      return 0;
    }
    process.stdout.write(
      `prisma/schema.prisma has changes no migration makes (run \`npm run db:migration -- <name>\`):\n\n${sql}\n`,
    );
    return 1;
  } finally {
    await se.close();
  }
}

main().then(
  (code) => process.exit(code), // the wasm engine keeps timers alive for a while after its last call
  (err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);
