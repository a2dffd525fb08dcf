import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../helpers/process';

const dataDir = mkdtempSync(join(tmpdir(), 'gw-first-run-'));
let gateway: GatewayProcess;
let url: string;

beforeAll(async () => {
  gateway = spawnGateway({ PORT: '0', DATA_DIR: dataDir });
  url = await gateway.ready;
}, 30_000);
afterAll(async () => {
  gateway.child.kill('SIGTERM');
  await gateway.exited;
});

test('when started with no settings, then it fronts the simulator and prints a working admin token and curl', async () => {
  const banner = gateway.stdout();
  expect(banner).toMatch(/LOCAL DEFAULT/);
  const token = /Admin token \(12 h\):\s+(\S+)/.exec(banner)?.[1];
  expect(token).toBeDefined();
  expect(banner).toContain(`curl -H "Authorization: Bearer ${token}" ${url}/v1/applications`);

  const res = await fetch(`${url}/v1/applications`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { total: number; objects: { id: string }[] };
  expect(body.objects.map((o) => o.id)).toContain('wSPk9y5D7p5o87k0ACGKxR');
});

test('when started, then the generated signing secret is kept in DATA_DIR readable only by its owner', () => {
  const file = join(dataDir, 'local-jwt-secret');
  expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThanOrEqual(43);
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

test('when no token is sent, then the local default still refuses', async () => {
  const res = await fetch(`${url}/v1/applications`);
  expect(res.status).toBe(401);
});

test('when NODE_ENV=production and nothing is configured, then start-up stops with the list of what is wrong', async () => {
  const prod = spawnGateway({ NODE_ENV: 'production', PORT: '0' });
  const code = await prod.exited;
  expect(code).toBe(78);
  expect(prod.stderr()).toMatch(/KLOUDLESS_DEVELOPER_KEY \(or _FILE\) is required in production/);
  expect(prod.stderr()).toMatch(/JWT_ISSUER is required in production/);
  expect(prod.stdout()).not.toMatch(/LOCAL DEFAULT/);
}, 30_000);
