import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PROCESS_LINE_CODES } from '../../src/logging/process-lines';
import { SERVER_URL } from '../helpers/database';
import { ROOT, spawnGateway } from '../helpers/process';

/** Every non-empty line of a run, parsed; a line that is not JSON fails the test with the line in the message. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}

const production = () => ({
  NODE_ENV: 'production',
  PORT: '0',
  KLOUDLESS_API_URL: 'https://127.0.0.1:9/v1',
  KLOUDLESS_DEVELOPER_KEY: `dk_${randomBytes(12).toString('hex')}`,
  JWT_SECRET: randomBytes(32).toString('hex'),
  JWT_ISSUER: 'https://idp.json-lines.invalid/',
  JWT_AUDIENCE: 'kloudless-gateway',
  AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
  AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  // A database that does not exist: start-up cannot go on (an unreachable one is waited for instead).
  DATABASE_URL: Object.assign(new URL(SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'), {
    pathname: '/gw_json_lines_no_such_database',
  }).toString(),
});

test('when production configuration is refused, then every line is JSON with code config_invalid and the problems as a list, exit 78', async () => {
  const run = spawnGateway({ NODE_ENV: 'production', PORT: '0', JWT_SECRET: 'short' });
  expect(await run.exited).toBe(78);
  const lines = jsonLines(run.stdout() + run.stderr());
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 60, code: 'config_invalid', msg: 'invalid configuration: start-up refused' });
  expect(lines[0]!.problems).toEqual(
    expect.arrayContaining([
      'KLOUDLESS_DEVELOPER_KEY (or _FILE) is required in production',
      'JWT_SECRET must be at least 32 bytes in production',
    ]),
  );
  expect(typeof lines[0]!.time).toBe('number');
}, 30_000);

(SERVER_URL ? test : test.skip)(
  'when production start-up fails (the database does not exist), then every line is JSON, the failure with code startup_failed and its stack, exit 1',
  async () => {
    const run = spawnGateway(production());
    expect(await run.exited).toBe(1);
    const lines = jsonLines(run.stdout() + run.stderr());
    const fatal = lines.find((l) => l.code === 'startup_failed');
    expect(fatal).toMatchObject({ level: 60, err: { stack: expect.any(String) } });
  },
  30_000,
);

test.each([
  ['a thrown exception', 'throw', 'uncaught_exception', 'boom from a timer'],
  ['a rejected promise', 'reject', 'unhandled_rejection', 'nobody handled this'],
])(
  'when %s reaches nothing that handles it in production, then its line is JSON with a stable code, as is the warning before it, exit 1',
  (_what, mode, code, message) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'crash.ts'), mode], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    const lines = jsonLines(run.stdout + run.stderr);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, code: 'process_warning', msg: 'something is deprecated' }),
      expect.objectContaining({
        level: 60,
        code,
        msg: message,
        err: expect.objectContaining({ stack: expect.any(String) }),
      }),
    ]);
    for (const line of lines) expect(Object.keys(PROCESS_LINE_CODES)).toContain(line.code);
  },
);
