import { readFileSync, statSync } from 'node:fs';
import { Client } from 'pg';
import { createTestDatabase } from '../test/helpers/database';
import { startHarness } from '../test/helpers/harness';
import { tokenFor } from '../test/helpers/tokens';

/**
 * How many statements a mutation sends to Postgres: the database is created with `log_statement = all`, N webhook
 * creates and deletes go through a real gateway, and the server's log lines for that database are counted by kind.
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/roundtrips.ts [n=50] [log file]
 */
const N = Number(process.argv[2] ?? 50);
const LOG = process.argv[3] ?? '/var/log/postgresql/postgresql-15-main.log';
const APP = 'wSPk9y5D7p5o87k0ACGKxR';

async function main(): Promise<void> {
  const db = await createTestDatabase('postgres');
  const name = new URL(db.url!).pathname.slice(1);
  const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`ALTER DATABASE "${name}" SET log_statement = 'all'`);
  await admin.end();
  const h = await startHarness({ database: db, env: { LOG_LEVEL: 'silent' } });
  const token = tokenFor('admin');
  const once = async () => {
    const created = await h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${token}`)
      .send({ url: 'https://hooks.example.com/rt' });
    await h.api().delete(`/v1/applications/${APP}/webhooks/${created.body.id}`).set('Authorization', `Bearer ${token}`);
  };
  for (let i = 0; i < 5; i++) await once(); // warm-up
  await new Promise((r) => setTimeout(r, 1500));
  const from = statSync(LOG).size;
  for (let i = 0; i < N; i++) await once();
  const lines = readFileSync(LOG)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes(`${name}`) || /LOG: {2}(statement|execute)/.test(l));
  const statements = lines.filter((l) => /LOG: {2}(statement|execute [^:]*):/.test(l));
  const kinds = new Map<string, number>();
  for (const l of statements) {
    const sql = l
      .replace(/^.*LOG: {2}(statement|execute [^:]*): /, '')
      .replace(/\s+/g, ' ')
      .slice(0, 70);
    kinds.set(sql, (kinds.get(sql) ?? 0) + 1);
  }
  console.log(
    `${statements.length} statements for ${N} creates + ${N} deletes: ${(statements.length / (2 * N)).toFixed(1)} per mutation`,
  );
  for (const [sql, n] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`${(n / (2 * N)).toFixed(2).padStart(6)}  ${sql}`);
  await h.close();
  await db.drop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => (console.error(err), process.exit(1)),
);
