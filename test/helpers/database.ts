import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { openDatabase } from '../../src/db/client';
import { applyMigrations, readMigrations } from '../../src/db/migrate';

export type Backend = 'postgres' | 'embedded';

/**
 * The server Postgres tests use, when one is configured: TEST_DATABASE_URL names a database the tests may
 * create and drop databases from (e.g. postgres://postgres@127.0.0.1:5432/postgres). Under CI=true it must be
 * set and reachable: a missing service fails the run instead of quietly testing less.
 */
export const SERVER_URL = process.env.TEST_DATABASE_URL || undefined;
if (!SERVER_URL && process.env.CI === 'true')
  throw new Error('CI=true but TEST_DATABASE_URL is not set: the Postgres tests cannot be skipped in CI');

/** Every backend the audit tests must pass on here: the embedded one always, a server Postgres when configured. */
export const BACKENDS: Backend[] = SERVER_URL ? ['postgres', 'embedded'] : ['embedded'];

/** The backend for tests whose subject is not the database: a server when there is one (faster), else embedded. */
export const DEFAULT_BACKEND: Backend = SERVER_URL ? 'postgres' : 'embedded';

export interface TestDatabase {
  backend: Backend;
  /** DATABASE_URL for the gateway; undefined for the embedded store. */
  url?: string;
  dataDir: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file: empty, or with `migrated` a copy of one every migration was applied to
 * once per set of migrations (a Postgres template database, or a copied PGlite directory), so the gateway's start
 * finds the schema current instead of building it (about 5 s per embedded start, 0.5 s once migrated).
 */
export async function createTestDatabase(
  backend: Backend,
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-test-'));
  if (backend === 'embedded') {
    if (options.migrated) cpSync(await embeddedTemplate(), join(dataDir, 'pglite'), { recursive: true });
    return { backend, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  if (!SERVER_URL) throw new Error('no server Postgres configured (TEST_DATABASE_URL)');
  const name = `gw_test_${randomBytes(6).toString('hex')}`;
  const template = options.migrated ? ` TEMPLATE ${await postgresTemplate()}` : '';
  await admin(async (c) => c.query(`CREATE DATABASE ${name}${template}`));
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    backend,
    url: url.toString(),
    dataDir,
    drop: async () => {
      await admin(async (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Names the migrations (and the embedded engine's version): a template is reused only for exactly these. */
function migrationsId(): string {
  const hash = createHash('sha256');
  for (const m of readMigrations()) hash.update(`${m.name}\n${m.checksum}\n`);
  hash.update(readFileSync(join(__dirname, '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json')));
  return hash.digest('hex').slice(0, 16);
}

/** A migrated PGlite directory under the system's temporary directory, made by the first test file that needs it. */
async function embeddedTemplate(): Promise<string> {
  const dir = join(tmpdir(), `gw-pglite-template-${migrationsId()}`);
  if (existsSync(join(dir, 'pglite'))) return join(dir, 'pglite');
  // Built aside and renamed into place whole: a test file in another worker sees no template or a finished one.
  const draft = mkdtempSync(join(tmpdir(), 'gw-pglite-draft-'));
  const db = await openDatabase({ dataDir: draft, poolSize: 1, connectTimeoutMs: 10_000 });
  try {
    await applyMigrations(db);
  } finally {
    await db.close();
  }
  try {
    renameSync(draft, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
    rmSync(draft, { recursive: true, force: true }); // another worker finished first: its template is the same
  }
  return join(dir, 'pglite');
}

/** A migrated template database on the server, made once per set of migrations under an advisory lock. */
async function postgresTemplate(): Promise<string> {
  const name = `gw_template_${migrationsId()}`;
  await admin(async (c) => {
    await c.query('SELECT pg_advisory_lock(7319004299)');
    try {
      const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount) return;
      await c.query(`CREATE DATABASE ${name}`);
      const url = new URL(SERVER_URL as string);
      url.pathname = `/${name}`;
      const db = await openDatabase({ url: url.toString(), dataDir: tmpdir(), poolSize: 1, connectTimeoutMs: 10_000 });
      try {
        await applyMigrations(db);
      } finally {
        await db.close();
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock(7319004299)');
    }
  });
  return name;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Runs SQL as the server's superuser against a test database (to play the attacker with database access). */
export async function asSuperuser<T>(db: TestDatabase, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: db.url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
