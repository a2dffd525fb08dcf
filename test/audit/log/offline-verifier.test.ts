import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startHarness, type Harness } from '../../helpers/harness';
import { tokenFor } from '../../helpers/tokens';

const run = promisify(execFile);
const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const ROOT = resolve(__dirname, '../../..');

/** The modules the verifier loads, followed through relative imports. */
function importGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g))
    importGraph(`${resolve(dirname(file), spec as string)}.ts`, seen);
  return seen;
}

describe('npm run audit:verify', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  const auditor = tokenFor('auditor', 'aud');
  const get = (path: string) => h.api().get(path).set('Authorization', `Bearer ${auditor}`);
  const save = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const verify = (...args: string[]) =>
    run('npx', ['tsx', 'scripts/audit-verify.ts', ...args], { cwd: ROOT }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
    );

  beforeAll(async () => {
    h = await startHarness({ unowned: true });
  }, 30_000);
  afterAll(async () => h.close());

  test("the verifier imports nothing of the database, the store or the gateway's keys", () => {
    const loaded = [...importGraph(join(ROOT, 'scripts/audit-verify.ts'))].map((f) => f.slice(ROOT.length + 1));
    expect(loaded.filter((f) => /src\/(db|generated)\/|audit\/(store|keys|recorder)\.ts/.test(f))).toEqual([]);
    expect(loaded).toContain('src/audit/log/merkle.ts');
  });

  test('when a reviewer kept a checkpoint, then with the public key alone the CLI proves the log only grew, an exported entry is in it, and rebuilds the root', async () => {
    const mutate = (i: number) =>
      h
        .api()
        .post(`/v1/applications/${APP}/webhooks`)
        .set('Authorization', `Bearer ${tokenFor('admin')}`)
        .send({ url: `https://hooks.example.com/${i}` });
    await mutate(1);
    const old = save(
      'old.txt',
      (await h.api().post('/v1/audit/checkpoint').set('Authorization', `Bearer ${auditor}`)).text,
    );
    for (let i = 2; i < 5; i++) await mutate(i);
    const checkpoint = save(
      'new.txt',
      (await h.api().post('/v1/audit/checkpoint').set('Authorization', `Bearer ${auditor}`)).text,
    );
    const key = save('key.json', (await get('/v1/audit/public-key')).text);
    const size = Number(readFileSync(checkpoint, 'utf8').split('\n')[1]);
    const oldSize = Number(readFileSync(old, 'utf8').split('\n')[1]);
    const entries = save('entries.ndjson', (await get('/v1/audit/log/entries')).text);
    const consistency = save(
      'consistency.json',
      (await get(`/v1/audit/proof/consistency?from=${oldSize}&to=${size}`)).text,
    );
    const inclusion = save(
      'inclusion.json',
      (await get(`/v1/audit/proof/inclusion?sequence=3&tree_size=${size}`)).text,
    );

    expect(await verify('checkpoint', '--key', key, '--checkpoint', checkpoint)).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^ok: checkpoint .* signature ok/),
    });
    expect(
      await verify('consistency', '--key', key, '--old', old, '--checkpoint', checkpoint, '--proof', consistency),
    ).toMatchObject({ code: 0, out: expect.stringMatching(/only grew/) });
    expect(
      await verify(
        'inclusion',
        '--key',
        key,
        '--checkpoint',
        checkpoint,
        '--proof',
        inclusion,
        '--entries',
        entries,
        '--sequence',
        '3',
      ),
    ).toMatchObject({ code: 0, out: expect.stringMatching(/entry 3 is in the log/) });
    expect(await verify('rebuild', '--key', key, '--checkpoint', checkpoint, '--entries', entries)).toMatchObject({
      code: 0,
      out: expect.stringMatching(/matches/),
    });

    // A changed line, a forged checkpoint, a missing cosignature: each fails with exit code 1.
    const lines = readFileSync(entries, 'utf8').split('\n');
    const edited = save(
      'edited.ndjson',
      lines.map((l, i) => (i === 2 ? l.replace('"seq":"3"', '"seq":"3","actor_name":"mallory"') : l)).join('\n'),
    );
    expect(
      await verify(
        'inclusion',
        '--key',
        key,
        '--checkpoint',
        checkpoint,
        '--proof',
        inclusion,
        '--entries',
        edited,
        '--sequence',
        '3',
      ),
    ).toMatchObject({ code: 1, err: expect.stringMatching(/FAILED: entry 3 as exported is not in the tree/) });
    expect(await verify('rebuild', '--key', key, '--checkpoint', checkpoint, '--entries', edited)).toMatchObject({
      code: 1,
      err: expect.stringMatching(/differs from the checkpoint/),
    });
    const forged = save('forged.txt', readFileSync(checkpoint, 'utf8').replace(`\n${size}\n`, `\n${size + 1}\n`));
    expect(await verify('checkpoint', '--key', key, '--checkpoint', forged)).toMatchObject({
      code: 1,
      err: expect.stringMatching(/not signed by the log key/),
    });
    expect(
      await verify('checkpoint', '--key', key, '--checkpoint', checkpoint, '--min-cosignatures', '1'),
    ).toMatchObject({ code: 1, err: expect.stringMatching(/0 trusted cosignature/) });
  }, 60_000);
});
