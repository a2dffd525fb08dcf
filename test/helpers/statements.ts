import { existsSync, readFileSync, statSync } from 'node:fs';
import { Client } from 'pg';

/** The server's log, where `log_statement = all` writes each statement a database receives. */
export const POSTGRES_LOG = process.env.POSTGRES_LOG ?? '/var/log/postgresql/postgresql-15-main.log';

export const canCountStatements = (): boolean => existsSync(POSTGRES_LOG);

/** Makes the server log every statement sent to `database` (a test database of its own). */
export async function logStatements(serverUrl: string, database: string): Promise<void> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`ALTER DATABASE "${database}" SET log_statement = 'all'`);
  await admin.end();
}

/** The statements the server logged for `database` while `work` ran (bench/roundtrips.ts counts the same way). */
export async function statementsDuring(database: string, work: () => Promise<void>, log = POSTGRES_LOG) {
  const from = statSync(log).size;
  await work();
  await new Promise((r) => setTimeout(r, 500));
  return readFileSync(log)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes(database) || /LOG: {2}(statement|execute)/.test(l))
    .filter((l) => /LOG: {2}(statement|execute [^:]*):/.test(l));
}
