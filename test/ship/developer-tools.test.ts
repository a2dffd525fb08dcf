import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { localSecret } from '../../src/secrets/kept';
import { ROOT } from '../helpers/process';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

const run = promisify(execFile);
const token = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'token.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  });

describe('npm run token', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'token-'));

  test('when asked for an editor token for the local default, then it mints one the local default accepts', async () => {
    const { stdout } = await token(['--sub', 'alice', '--roles', 'editor,viewer', '--ttl', '2h', '--name', 'Alice'], {
      DATA_DIR: dataDir,
    });
    const claims = jwt.verify(stdout.trim(), localSecret(dataDir, 'local-jwt-secret'), {
      algorithms: ['HS256'],
    }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'alice', roles: ['editor', 'viewer'], name: 'Alice' });
    expect(claims.exp! - claims.iat!).toBe(7200);
  }, 30_000);

  test.each([
    [['--sub', 'a'], { NODE_ENV: 'production' }, /production/],
    [['--roles', 'admin'], {}, /--sub is required/],
    [['--sub', 'a', '--ttl', 'forever'], {}, /--ttl must look like/],
    [['--sub', 'a', '--ttl', '90d'], {}, /at most 30d/],
  ])(
    'when run with %j and %j, then it refuses',
    async (args, env, message) => {
      await expect(
        token(args as string[], { DATA_DIR: dataDir, ...(env as Record<string, string>) }),
      ).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(message as RegExp) });
    },
    30_000,
  );
});

describe('GET /v1/policy/explain', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());
  const explain = (query: string) =>
    h
      .api()
      .get(`/v1/policy/explain?${query}`)
      .set('Authorization', `Bearer ${tokenFor('viewer')}`);

  test('when asked whether a role may call an operation, then it answers allowed or denied and why', async () => {
    expect((await explain('role=editor&operation=webhooks.delete')).body).toEqual({
      roles: ['editor'],
      operation: 'webhooks.delete',
      allowed: true,
      reason: 'role_grants_permission',
      granted_by: 'editor',
      granted_by_name_only: false,
      scope: 'team',
      reaches: "applications owned by the caller's teams",
      unknown_roles: [],
    });
    expect((await explain('role=viewer,ghost&operation=apikeys.create')).body).toEqual({
      roles: ['viewer', 'ghost'],
      operation: 'apikeys.create',
      allowed: false,
      reason: 'no_role_grants_permission',
      granted_by: null,
      granted_by_name_only: false,
      scope: null,
      reaches: null,
      unknown_roles: ['ghost'],
    });
  });

  test('when asked about one application, then an ownership manager learns its owner and whether those teams reach it', async () => {
    const admin = (query: string) =>
      h
        .api()
        .get(`/v1/policy/explain?${query}`)
        .set('Authorization', `Bearer ${tokenFor('admin')}`);
    const app = 'wSPk9y5D7p5o87k0ACGKxR';
    expect((await admin(`role=editor&operation=webhooks.delete&teams=demo&application_id=${app}`)).body).toMatchObject({
      allowed: true,
      application: { id: app, owner: 'demo' },
    });
    expect(
      (await admin(`role=editor&operation=webhooks.delete&teams=search&application_id=${app}`)).body,
    ).toMatchObject({ allowed: false, reason: 'not_owner' });
    expect(
      (await admin('role=editor&operation=webhooks.delete&teams=demo&application_id=unownedApp')).body,
    ).toMatchObject({ allowed: false, reason: 'unowned', application: { owner: null } });
    expect((await admin(`role=admin&operation=applications.delete&application_id=${app}`)).body).toMatchObject({
      allowed: true,
      scope: 'any',
    });
    const probe = await explain(`role=editor&operation=webhooks.delete&teams=demo&application_id=${app}`);
    expect(probe.status).toBe(403);
  });

  test('when the operation is unknown or a parameter is missing, then 400', async () => {
    expect((await explain('role=admin&operation=applications.destroy')).body.error.details[0].code).toBe(
      'unknown_operation',
    );
    expect((await explain('role=admin')).status).toBe(400);
  });
});
