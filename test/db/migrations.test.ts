import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/client';
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from '../../src/db/migrate';
import { Prisma } from '../../src/generated/prisma/client';
import { BACKENDS, createTestDatabase, SERVER_URL, type Backend, type TestDatabase } from '../helpers/database';

const ROOT = join(__dirname, '..', '..');
const MIGRATION_NAMES = readMigrations().map((m) => m.name);

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the check in its own Node process (jest cannot load the ESM-only schema engine) from a project folder. */
function runCheck(project: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('scripts', 'migration-check.ts')], { cwd: project });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the migration check', () => {
  test('when the migrations are compared with schema.prisma, then there is no drift', async () => {
    const check = await runCheck(ROOT);
    expect(check).toMatchObject({ code: 0 });
    expect(check.stdout).toMatch(/^ok: /);
  }, 60_000);

  describe('on a copy of the project', () => {
    // scripts/schema-engine.ts finds prisma/ next to its own folder, so a copy of scripts/ and prisma/ (sharing
    // node_modules) is a project the check can be shown to fail on without touching the real one.
    let copy: string;
    beforeEach(() => {
      copy = mkdtempSync(join(tmpdir(), 'gw-check-'));
      for (const item of ['scripts', 'prisma', 'package.json', 'tsconfig.json'])
        cpSync(join(ROOT, item), join(copy, item), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
    });
    afterEach(() => rmSync(copy, { recursive: true, force: true }));

    test('when schema.prisma gains a field no migration adds, then the check fails printing the missing SQL', async () => {
      const schema = join(copy, 'prisma', 'schema.prisma');
      writeFileSync(
        schema,
        readFileSync(schema, 'utf8').replace(
          'model AuditEntry {\n',
          'model AuditEntry {\n  reviewedBy String? @map("reviewed_by")\n',
        ),
      );
      const check = await runCheck(copy);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(/ALTER TABLE "audit_entry" ADD COLUMN\s+"reviewed_by" TEXT/);
    }, 60_000);

    test('when a migration folder has no migration.sql and the lock file is missing, then the check fails naming both', async () => {
      mkdirSync(join(copy, 'prisma', 'migrations', '20990101000000_forgotten'));
      rmSync(join(copy, 'prisma', 'migrations', 'migration_lock.toml'));
      const check = await runCheck(copy);
      expect(check.code).toBe(1);
      expect(check.stderr).toContain('migration 20990101000000_forgotten has no migration.sql');
      expect(check.stderr).toContain('migration_lock.toml is missing');
    }, 60_000);
  });
});

async function open(database: TestDatabase): Promise<Database> {
  return openDatabase({ url: database.url, dataDir: database.dataDir, poolSize: 2, connectTimeoutMs: 5000 });
}

async function recorded(db: Database) {
  return db.transactionScript((s) =>
    s.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name, started_at',
    ),
  );
}

describe.each(BACKENDS)('migrations on %s', (backend: Backend) => {
  let database: TestDatabase;
  let db: Database;
  beforeEach(async () => {
    database = await createTestDatabase(backend);
    db = await open(database);
  }, 30_000);
  afterEach(async () => {
    await db.close();
    await database.drop();
  });

  test('when migrations are applied to an empty database, then each is recorded once with its checksum and a second run applies nothing', async () => {
    expect(await applyMigrations(db)).toEqual(MIGRATION_NAMES);
    const sha256 = (name: string) =>
      createHash('sha256')
        .update(readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql')))
        .digest('hex');
    const expected = MIGRATION_NAMES.map((name) => ({ migration_name: name, checksum: sha256(name) }));
    expect(await recorded(db)).toEqual(expected);

    expect(await applyMigrations(db)).toEqual([]);
    expect(await recorded(db)).toEqual(expected);
  });

  test('when an applied migration file is changed afterwards, then start-up fails naming it', async () => {
    await applyMigrations(db);
    const edited = mkdtempSync(join(tmpdir(), 'gw-migrations-'));
    try {
      cpSync(MIGRATIONS_DIR, edited, { recursive: true });
      const [first] = MIGRATION_NAMES as [string];
      appendFileSync(join(edited, first, 'migration.sql'), '\n-- an edit after deployment\n');
      await expect(applyMigrations(db, readMigrations(edited))).rejects.toThrow(
        `migration ${first} was changed after it was applied`,
      );
    } finally {
      rmSync(edited, { recursive: true, force: true });
    }
    expect((await recorded(db)).map((r) => r.migration_name)).toEqual(MIGRATION_NAMES);
  });

  test('when the database has the audit table, then its columns are the ones schema.prisma maps the model to', async () => {
    await applyMigrations(db);
    const rows = await db.transactionScript((s) =>
      s.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'audit_entry'`,
      ),
    );
    const { fields, columns } = auditEntryInSchema();
    expect(rows.map((r) => r.column_name).sort()).toEqual([...columns].sort());
    expect(fields).toEqual(Object.keys(Prisma.AuditEntryScalarFieldEnum));
  });
});

/** The field names of model AuditEntry in schema.prisma, and the column each maps to. */
function auditEntryInSchema(): { fields: string[]; columns: string[] } {
  const schema = readFileSync(join(ROOT, 'prisma', 'schema.prisma'), 'utf8');
  const body = /^model AuditEntry \{\n([\s\S]*?)^\}/m.exec(schema)?.[1];
  if (!body) throw new Error('model AuditEntry not found in prisma/schema.prisma');
  const fields = body
    .split('\n')
    .map((line) => /^\s*(\w+)\s+\w+(\[\]|\?)?(?:\s+(.*))?$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1] as string, column: /@map\("([^"]+)"\)/.exec(m[3] ?? '')?.[1] ?? (m[1] as string) }));
  return { fields: fields.map((f) => f.name), columns: fields.map((f) => f.column) };
}

const onServer = SERVER_URL ? describe : describe.skip;

onServer('migrations from several instances on postgres', () => {
  test('when four instances apply migrations at the same moment, then each migration is applied exactly once', async () => {
    const database = await createTestDatabase('postgres');
    const instances = await Promise.all([1, 2, 3, 4].map(() => open(database)));
    try {
      const results = await Promise.allSettled(instances.map((db) => applyMigrations(db)));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      expect(applied.sort()).toEqual(MIGRATION_NAMES);
      expect((await recorded(instances[0] as Database)).map((r) => r.migration_name)).toEqual(MIGRATION_NAMES);
    } finally {
      await Promise.all(instances.map((db) => db.close()));
      await database.drop();
    }
  });
});
