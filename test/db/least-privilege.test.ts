import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { openDatabase } from '../../src/db/client';
import { RUNTIME_TABLE_PRIVILEGES } from '../../src/db/grants';
import { applyMigrations, readMigrations } from '../../src/db/migrate';
import { createSimulator } from '../../src/simulator/server';
import { asSuperuser, createTestDatabase, SERVER_URL, type TestDatabase } from '../helpers/database';
import { ROOT, spawnGateway } from '../helpers/process';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, tokenFor } from '../helpers/tokens';

const describeWithPostgres = SERVER_URL ? describe : describe.skip;
const APP = 'wSPk9y5D7p5o87k0ACGKxR';

/** One of the project's npm commands, as an operator runs it (`npm run db:migrate` is `tsx <this file>`). */
function runCommand(file: string, args: string[], env: Record<string, string>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'commands', file), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const gatewayEnv = (upstream: string, databaseUrl: string) => ({
  NODE_ENV: 'test',
  PORT: '0',
  KLOUDLESS_API_URL: upstream,
  KLOUDLESS_DEVELOPER_KEY: 'dk-least-privilege',
  JWT_SECRET: TEST_SECRET,
  JWT_ISSUER: TEST_ISSUER,
  JWT_AUDIENCE: TEST_AUDIENCE,
  DATABASE_URL: databaseUrl,
  MIGRATE_ON_START: 'false',
});

describeWithPostgres('a least-privilege runtime role, migrations run as their own step', () => {
  let db: TestDatabase;
  const role = `gw_runtime_${randomBytes(4).toString('hex')}`;
  let runtimeUrl: string;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await asSuperuser(db, (c) => c.query(`CREATE ROLE ${role} LOGIN`));
    const url = new URL(db.url!);
    url.username = role;
    url.password = '';
    runtimeUrl = url.toString();
  }, 30_000);
  afterAll(async () => {
    await db.drop();
    const admin = new Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
  });

  test('when db:migrate runs as the owner, then it applies every migration once and says so as JSON; again, nothing to do', () => {
    const first = runCommand('db-migrate.ts', [], { DATABASE_URL: db.url! });
    expect(first.status).toBe(0);
    const line = JSON.parse(first.stdout.trim()) as { level: number; migrations: string[]; msg: string };
    // Shaped like every line the gateway writes (the log schema): pino's numeric level, time in ms.
    expect(line).toMatchObject({ level: 30, time: expect.any(Number), msg: 'migrations applied' });
    expect(line.migrations).toEqual(readMigrations().map((m) => m.name));
    const again = runCommand('db-migrate.ts', [], { DATABASE_URL: db.url! });
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ migrations: [], msg: 'schema is current' });
  }, 60_000);

  test('when the printed GRANTs are applied, then they name every table the migrations created', async () => {
    const grants = runCommand('db-grants.ts', ['--role', role], {});
    expect(grants.status).toBe(0);
    await asSuperuser(db, (c) => c.query(grants.stdout));
    const tables = await asSuperuser(db, (c) =>
      c.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      ),
    );
    expect(tables.rows.map((r) => r.table_name).sort()).toEqual(Object.keys(RUNTIME_TABLE_PRIVILEGES).sort());
    expect(runCommand('db-grants.ts', ['--role', 'x; DROP TABLE audit_entry'], {}).status).toBe(64);
  }, 30_000);

  test('when the gateway runs under exactly that role, then it starts, forwards, records, signs a checkpoint and verifies, with no privilege refused', async () => {
    const simulator = createSimulator({ developerKey: 'dk-least-privilege', seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const gateway = spawnGateway(gatewayEnv(upstream, runtimeUrl));
    try {
      const url = await gateway.ready;
      const auth = { Authorization: `Bearer ${tokenFor('admin', 'least-privilege')}` };
      const created = await fetch(`${url}/v1/applications/${APP}/webhooks`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: 'https://hooks.example.com/least-privilege' }),
      });
      expect(created.status).toBe(201);
      expect((await fetch(`${url}/v1/applications`, { headers: auth })).status).toBe(200);
      const checkpoint = await fetch(`${url}/v1/audit/checkpoint`, { method: 'POST', headers: auth });
      expect(checkpoint.status).toBe(200);
      expect(await checkpoint.text()).toMatch(/^kloudless-gateway/);
      const verified = await fetch(`${url}/v1/audit/verify`, { headers: auth });
      expect(verified.status).toBe(200);
      expect(((await verified.json()) as { ok: boolean }).ok).toBe(true);
      const rows = await asSuperuser(db, (c) => c.query('SELECT count(*)::int AS n FROM audit_entry'));
      expect(rows.rows[0].n).toBeGreaterThanOrEqual(2);
      expect(gateway.stdout() + gateway.stderr()).not.toMatch(/permission denied/i);
    } finally {
      gateway.child.kill('SIGKILL');
      await simulator.close();
    }
  }, 60_000);

  test('when the runtime role tries to UPDATE, DELETE or TRUNCATE audit rows, then the privilege is refused (42501) before any trigger', async () => {
    const client = new Client({ connectionString: runtimeUrl });
    await client.connect();
    try {
      for (const sql of [
        "UPDATE audit_entry SET actor_sub = 'someone else'",
        'DELETE FROM audit_entry',
        'TRUNCATE audit_entry',
        'DELETE FROM audit_checkpoint',
        'UPDATE audit_tree_node SET hash = hash',
        'CREATE TABLE intruder (id int)',
      ])
        await expect(client.query(sql)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });
});

describeWithPostgres('MIGRATE_ON_START=false against a schema behind the build', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const database = await openDatabase({ url: db.url, dataDir: db.dataDir, poolSize: 1, connectTimeoutMs: 5_000 });
    await applyMigrations(database, readMigrations().slice(0, -1));
    await database.close();
  }, 30_000);
  afterAll(async () => db.drop());

  test('when a migration is missing, then the gateway refuses to start with exit 78, naming it and how to apply it', async () => {
    const simulator = createSimulator({ developerKey: 'dk-least-privilege', seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const gateway = spawnGateway(gatewayEnv(upstream, db.url!));
    try {
      expect(await gateway.exited).toBe(78);
      const newest = readMigrations().at(-1)!.name;
      expect(gateway.stderr()).toContain(`lacks 1 migration(s) this build needs: ${newest}`);
      expect(gateway.stderr()).toContain('npm run db:migrate');
    } finally {
      gateway.child.kill('SIGKILL');
      await simulator.close();
    }
  }, 30_000);
});
