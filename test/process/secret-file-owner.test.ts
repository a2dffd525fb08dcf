import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRODUCTION } from '../helpers/config';
import { ROOT } from '../helpers/process';

// Needs another uid to run as: root here (CI), with util-linux's setpriv, as container:check runs the image's user.
const canSwitchUser = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;

(canSwitchUser ? test : test.skip)(
  'when a secret file is readable only by root (0600) and the gateway runs as another uid, then production start-up refuses (78) saying which uid must read it',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-secret-owner-'));
    chmodSync(dir, 0o755);
    const file = join(dir, 'developer_key');
    writeFileSync(file, 'dk-root-only\n', { mode: 0o600 });
    const { KLOUDLESS_DEVELOPER_KEY: _inline, ...production } = PRODUCTION;
    const run = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '--import', 'tsx', 'src/index.ts'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          ...production,
          KLOUDLESS_API_URL: 'https://api.kloudless.com/v1',
          KLOUDLESS_DEVELOPER_KEY_FILE: file,
          DATA_DIR: dir,
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status).toBe(78);
    const line = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { code: string; problems: string[] };
    expect(line.code).toBe('config_invalid');
    expect(line.problems).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^KLOUDLESS_DEVELOPER_KEY_FILE: cannot read ${file} \\(EACCES\\): this process runs as uid 65534 .*uid 1000`,
        ),
      ),
    );
  },
);
