import { Client } from 'pg';
import { createTestDatabase } from '../test/helpers/database';
import { startHarness } from '../test/helpers/harness';
import { tokenFor } from '../test/helpers/tokens';
import { own } from '../test/helpers/ownership';
import { statementsDuring } from '../test/helpers/statements';
import { HEARTBEAT_SQL } from '../src/db/listen';

/**
 * How many statements a mutation, a team-scoped read and an approval send to Postgres: the database is created with
 * `log_statement = all`, N webhook creates and deletes go through a real gateway (as the admin, then as a team-scoped
 * editor), N reads of the application by a team-scoped viewer, then N guarded deletes are asked for and approved
 * (only the approving calls are counted: vote, execution, entries), and the server's log lines for that database are
 * counted by kind. The ownership listener's heartbeat (one per instance every 10 s, no request's) is left out.
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
  await h.gateway.ownership.whenLive(5_000);
  await own(h, APP, 'demo');
  const token = tokenFor('admin');
  const once = async (as = token) => {
    const created = await h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${as}`)
      .send({ url: 'https://hooks.example.com/rt' });
    if (created.status !== 201) throw new Error(`webhook create: ${created.status} ${created.text}`);
    await h.api().delete(`/v1/applications/${APP}/webhooks/${created.body.id}`).set('Authorization', `Bearer ${as}`);
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
  const editor = tokenFor('editor', 'team-editor', ['demo']);
  report(
    'team editor mutation',
    2 * N,
    await statementsDuring(name, async () => {
      for (let i = 0; i < N; i++) await once(editor);
    }),
  );
  const viewer = tokenFor('viewer', 'team-viewer', ['demo']);
  await h.api().get(`/v1/applications/${APP}`).set('Authorization', `Bearer ${viewer}`); // its own write, read once
  report(
    'team viewer read',
    N,
    await statementsDuring(name, async () => {
      for (let i = 0; i < N; i++) {
        const res = await h.api().get(`/v1/applications/${APP}`).set('Authorization', `Bearer ${viewer}`);
        if (res.status !== 200) throw new Error(`team read: ${res.status} ${res.text}`);
      }
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

function report(what: string, n: number, logged: string[]): void {
  const statements = logged.filter((l) => !l.includes(HEARTBEAT_SQL));
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
