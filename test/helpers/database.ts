import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

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

/** A fresh, empty database of its own for one test file. */
export async function createTestDatabase(backend: Backend): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-test-'));
  if (backend === 'embedded')
    return { backend, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  if (!SERVER_URL) throw new Error('no server Postgres configured (TEST_DATABASE_URL)');
  const name = `gw_test_${randomBytes(6).toString('hex')}`;
  await admin(async (c) => c.query(`CREATE DATABASE ${name}`));
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
