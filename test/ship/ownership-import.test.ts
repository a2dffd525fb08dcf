import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { ROOT } from '../helpers/process';
import { DEMO_TEAM, tokenFor } from '../helpers/tokens';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ownership-import-'));
const DEMO_APP = 'wSPk9y5D7p5o87k0ACGKxR';

function csv(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('npm run ownership:import', () => {
  let h: Harness;
  let admin: string;
  beforeAll(async () => {
    h = await startHarness();
    admin = tokenFor('admin', 'importer', []);
  });
  afterAll(async () => h.close());

  const importFile = (args: string[], env: Record<string, string> = { GATEWAY_TOKEN: admin }) =>
    run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts', 'ownership-import.ts'), '--url', h.gatewayUrl, ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        maxBuffer: 4 * 2 ** 20,
      },
    );
  const fresh = (n: number) =>
    Array.from({ length: n }, (_, i) => h.simulator.store.createApplication({ name: `Imported ${i}` }).id);
  const ownershipEntries = async () => (await allEntries(h)).filter((e) => e.operation?.startsWith('ownership.'));

  test('when the file is good, then every pair is applied through the trail and the summary counts them', async () => {
    const [a, b] = fresh(2);
    const file = csv('good.csv', ['application_id,team', `${a},payments`, `${b},search`, `${DEMO_APP},${DEMO_TEAM}`]);
    const before = (await ownershipEntries()).length;

    const { stdout } = await importFile([file, '--allow-new-teams']);

    expect(stdout).toContain('call 1 of 1 (lines 2-4): 2 assigned, 0 transferred, 1 unchanged, 0 failed');
    expect(stdout).toContain('done: 3 pairs, 2 assigned, 0 transferred, 1 unchanged, 0 failed');
    expect(await h.deps.ownership.store.ownersOf([a!, b!, DEMO_APP])).toEqual(
      new Map([
        [a, 'payments'],
        [b, 'search'],
        [DEMO_APP, DEMO_TEAM],
      ]),
    );
    const written = (await ownershipEntries()).slice(before);
    expect(written.map((e) => [e.kind, e.applicationId, e.actorSub])).toEqual(
      expect.arrayContaining([
        ['request', a, 'importer'],
        ['response', a, 'importer'],
        ['request', b, 'importer'],
        ['response', b, 'importer'],
      ]),
    );
    expect(written).toHaveLength(4);
  }, 60_000);

  test('when the file names an unknown application and an unknown team, then it exits 1 naming both lines and nothing changes', async () => {
    const [a, b] = fresh(2);
    const file = csv('bad.csv', [`${a},${DEMO_TEAM}`, 'noSuchApplication0000,demo', `${b},paymnets`]);
    const before = (await ownershipEntries()).length;

    const failure = await importFile([file]).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(
      'line 2 (noSuchApplication0000,demo): unknown_application: no application noSuchApplication0000 exists upstream',
    );
    expect(failure?.stderr).toContain(`line 3 (${b},paymnets): unknown_team: team paymnets owns no application yet`);
    expect(failure?.stderr).toMatch(/call 1 of 1 \(lines 1-3\) refused: 400 validation_failed/);
    expect(failure?.stderr).toContain('nothing was changed');
    expect(failure?.stderr).not.toContain(`line 1 `);
    expect(await h.deps.ownership.store.ownersOf([a!, b!])).toEqual(new Map());
    expect((await ownershipEntries()).slice(before).map((e) => [e.kind, e.operation, e.actorSub, e.outcome])).toEqual([
      ['decision', 'ownership.import', 'importer', expect.anything()],
    ]);
  }, 60_000);

  test('when the file has more than 1,000 rows, then it is sent in calls of 1,000 and every row is applied', async () => {
    const ids = fresh(1_201);
    const file = csv(
      'large.csv',
      ids.map((id) => `${id},bulk`),
    );

    const { stdout } = await importFile([file, '--allow-new-teams']);

    expect(stdout).toContain('call 1 of 2 (lines 1-1000): 1000 assigned');
    expect(stdout).toContain('call 2 of 2 (lines 1001-1201): 201 assigned');
    expect(stdout).toContain('done: 1201 pairs, 1201 assigned, 0 transferred, 0 unchanged, 0 failed');
    expect(await h.deps.ownership.store.ownedBy(['bulk'])).toEqual(new Set(ids));
  }, 120_000);

  test('when the file itself is wrong, then it exits 2 before sending anything', async () => {
    const [a] = fresh(1);
    const file = csv('malformed.csv', [`${a},demo`, `${a},search`, 'x,y,z', 'not an id,demo']);
    const before = (await allEntries(h)).length;

    const failure = await importFile([file]).catch((err: { code: number; stderr: string }) => err);

    expect(failure).toMatchObject({ code: 2 });
    const { stderr } = failure as { stderr: string };
    expect(stderr).toContain(`line 2: ${a} is already given to a team on line 1`);
    expect(stderr).toContain('line 3: expected 2 columns (application_id,team), found 3');
    expect(stderr).toContain('line 4: "not an id" is not an application id');
    expect(stderr).toContain('nothing sent: 3 problems');
    expect((await allEntries(h)).length).toBe(before);
  }, 60_000);

  test('when no token is given, an option is unknown, or the token may not manage ownership, then it refuses', async () => {
    const file = csv('one.csv', [`${DEMO_APP},${DEMO_TEAM}`]);
    await expect(importFile([file], {})).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--token TOKEN or GATEWAY_TOKEN'),
    });
    await expect(importFile([file, '--dry'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--dry'"),
    });
    await expect(importFile([file, '--token', tokenFor('editor')])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/refused: 403 forbidden/),
    });
  }, 60_000);
});
