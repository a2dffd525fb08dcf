import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/process';

const PROCESSES = 8;
const SECRETS = 300;

function racer(dir: string, start: number): Promise<string[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'kept-secret-racer.ts'), dir, String(SECRETS), String(start)],
    { cwd: ROOT },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(err)))),
  );
}

// The local default keeps its keys in DATA_DIR, and every worker of a WORKERS=2 gateway (or two gateways on one
// DATA_DIR) makes them at the same moment on a first start. CI once saw a worker read the signing key file another
// had created but not yet written, and refuse to start ("AUDIT_SIGNING_KEY is not a PEM private key").
test('when several processes make the same kept secrets at once, then each secret is whole and they all get the same one', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'gw-kept-')), 'data');
  const start = Date.now() + 2_000;
  const runs = await Promise.all(Array.from({ length: PROCESSES }, () => racer(dir, start)));

  const disagreeing = Array.from({ length: SECRETS }, (_, i) => i).filter((i) => {
    const seen = new Set(runs.map((run) => run[i]));
    return seen.size !== 1 || !/^[\w-]{43}\n$/.test([...seen][0] ?? '');
  });
  expect(disagreeing).toEqual([]);
  // Only the secrets are left: no draft of a process that lost the race.
  expect(readdirSync(dir).sort()).toEqual(Array.from({ length: SECRETS }, (_, i) => `secret-${i}`).sort());
  expect(statSync(join(dir, 'secret-0')).mode & 0o777).toBe(0o600);
  expect(statSync(dir).mode & 0o777).toBe(0o700);
}, 60_000);
