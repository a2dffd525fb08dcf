import { Client } from 'pg';
import { createTestDatabase } from '../test/helpers/database';
import { startHarness } from '../test/helpers/harness';
import { tokenFor } from '../test/helpers/tokens';
import { own } from '../test/helpers/ownership';
import { statementsDuring } from '../test/helpers/statements';

/**
 * How many statements a mutation, and an approval, send to Postgres: the database is created with
 * `log_statement = all`, N webhook creates and deletes go through a real gateway, then N guarded deletes are asked
 * for and approved (only the approving calls are counted: vote, execution, entries), and the server's log lines for
 * that database are counted by kind.
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres [POSTGRES_LOG=…] npx tsx bench/roundtrips.ts [n=50]
 * test/approvals/statements.test.ts holds the approval's count.
 */
const N = Number(process.argv[2] ?? 50);
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
  report(
    'mutation',
    2 * N,
    await statementsDuring(name, async () => {
      for (let i = 0; i < N; i++) await once();
    }),
  );

  // Approvals: the requests are made first (not counted), then each is approved by a second admin (counted).
  const approver = tokenFor('admin', 'second-admin');
  const ids: string[] = [];
  for (let i = 0; i < N + 2; i++) {
    const app = h.simulator.store.createApplication({ name: `rt-${i}` });
    await own(h, app.id, 'demo');
    const asked = await h.api().delete(`/v1/applications/${app.id}`).set('Authorization', `Bearer ${token}`);
    ids.push(asked.body.approval.id as string);
  }
  const approve = (id: string) =>
    h.api().post(`/v1/approvals/${id}/approve`).set('Authorization', `Bearer ${approver}`).send({});
  for (const id of ids.splice(0, 2)) await approve(id); // warm-up
  await new Promise((r) => setTimeout(r, 1500));
  report(
    'approval',
    N,
    await statementsDuring(name, async () => {
      for (const id of ids) {
        const res = await approve(id);
        if (res.body.approval?.state !== 'executed') throw new Error(`approval not executed: ${res.text}`);
      }
    }),
  );
  await h.close();
  await db.drop();
}

function report(what: string, n: number, statements: string[]): void {
  const kinds = new Map<string, number>();
  for (const l of statements) {
    const sql = l
      .replace(/^.*LOG: {2}(statement|execute [^:]*): /, '')
      .replace(/\s+/g, ' ')
      .slice(0, 70);
    kinds.set(sql, (kinds.get(sql) ?? 0) + 1);
  }
  console.log(`${statements.length} statements for ${n} ${what}s: ${(statements.length / n).toFixed(1)} per ${what}`);
  for (const [sql, k] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`${(k / n).toFixed(2).padStart(6)}  ${sql}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => (console.error(err), process.exit(1)),
);
