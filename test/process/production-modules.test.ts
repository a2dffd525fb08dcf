import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, SERVER_URL } from '../helpers/database';
import { ROOT } from '../helpers/process';

/**
 * Issue 26: what is only for development (src/dev/: the local default, the simulator it starts, the development IdP
 * and its provider library; the embedded database) is imported only when used, so a production gateway never loads
 * it. The process reports every module file it loaded when it exits (fixtures/report-modules.cjs).
 */
const withPostgres = SERVER_URL ? test : test.skip;

withPostgres(
  'when the gateway runs in production, then no development-only module is loaded',
  async () => {
    const db = await createTestDatabase('postgres');
    try {
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'production',
        PORT: '0',
        METRICS_PORT: '0',
        DRAIN_PERIOD_MS: '0',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'gw-prod-modules-')),
        KLOUDLESS_API_URL: 'https://127.0.0.1:9/v1',
        KLOUDLESS_DEVELOPER_KEY: `dk_${randomBytes(12).toString('hex')}`,
        JWT_SECRET: randomBytes(32).toString('hex'),
        JWT_ISSUER: 'https://idp.modules.invalid/',
        JWT_AUDIENCE: 'kloudless-gateway',
        AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
        AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519')
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
        DATABASE_URL: db.url as string,
      };
      // Production applies no migrations at start-up: the operator's step does (src/commands/db-migrate.ts).
      const migrated = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/commands/db-migrate.ts')], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      });
      expect(migrated.status).toBe(0);
      const child = spawn(
        process.execPath,
        ['--require', join(__dirname, 'fixtures/report-modules.cjs'), '--import', 'tsx', join(ROOT, 'src/index.ts')],
        { cwd: ROOT, env },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const closed = once(child, 'close');
      const deadline = Date.now() + 30_000;
      while (!out.includes('"msg":"gateway listening"') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('"msg":"gateway listening"');
      child.kill('SIGTERM');
      await closed;
      expect(child.exitCode).toBe(0);
      const modules = JSON.parse(/MODULES (.*)/.exec(err)?.[1] ?? '[]') as string[];
      expect(modules.some((m) => m.endsWith(join('src', 'compose.ts')))).toBe(true); // the report is real
      const devOnly = modules.filter((m) =>
        /[/\\]src[/\\](dev|simulator)[/\\]|[/\\]src[/\\]db[/\\]embedded\.ts$|@electric-sql|pglite|oidc-provider/.test(
          m,
        ),
      );
      expect(devOnly).toEqual([]);
    } finally {
      await db.drop();
    }
  },
  60_000,
);
