import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allEntries, tableAsText } from '../helpers/audit';
import { DEVELOPER_KEY, startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { waitFor } from '../helpers/async';

const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
const keyFile = join(dir, 'developer-key');
const policyFile = join(dir, 'policy.yaml');
const ROTATED_KEY = 'dk-rotated-5a4b3c2d1e0f';

let h: Harness;
beforeAll(async () => {
  writeFileSync(keyFile, `${DEVELOPER_KEY}\n`);
  writeFileSync(policyFile, 'roles:\n  viewer:\n    allow: [applications.list]\n  admin:\n    allow: ["*"]\n');
  h = await startHarness({
    env: { KLOUDLESS_DEVELOPER_KEY: '', KLOUDLESS_DEVELOPER_KEY_FILE: keyFile, POLICY_FILE: policyFile },
  });
});
afterAll(async () => h.close());

const list = (role: string) =>
  h
    .api()
    .get('/v1/applications')
    .set('Authorization', `Bearer ${tokenFor(role)}`);
const lastKeyAtUpstream = () => h.simulator.requests.at(-1)?.headers.authorization;

test('when the DeveloperKey file changes, then new requests carry the new key without a restart, and the rotation is audited without the key', async () => {
  await list('viewer');
  expect(lastKeyAtUpstream()).toBe(`DeveloperKey ${DEVELOPER_KEY}`);
  writeFileSync(keyFile, `${ROTATED_KEY}\n`);
  // The file is polled every 2 s: wait for the new key to reach the upstream, not for a fixed time.
  const rotatedKeyForwarded = async () => {
    await list('viewer');
    return lastKeyAtUpstream() === `DeveloperKey ${ROTATED_KEY}`;
  };
  await waitFor(rotatedKeyForwarded, 8_000, 'the rotated key reaching the upstream');
  const rotation = (await allEntries(h)).find((e) => e.operation === 'rotation.developer_key');
  expect(rotation).toMatchObject({
    kind: 'system',
    details: { trigger: 'file-change', result: 'rotated', fingerprint: h.deps.audit.keys.fingerprint(ROTATED_KEY) },
  });
  expect(await tableAsText(h)).not.toContain(ROTATED_KEY);
  h.assertNoLeaks([ROTATED_KEY]);
  // Back to the key the simulator knows, through the other trigger.
  writeFileSync(keyFile, `${DEVELOPER_KEY}\n`);
  await h.gateway.reload('SIGHUP');
  await list('viewer');
  expect(lastKeyAtUpstream()).toBe(`DeveloperKey ${DEVELOPER_KEY}`);
});

test('when the policy file changes and SIGHUP arrives, then the new policy applies to the next request and the reload is audited', async () => {
  expect(
    (
      await h
        .api()
        .get('/v1/applications/wSPk9y5D7p5o87k0ACGKxR')
        .set('Authorization', `Bearer ${tokenFor('viewer')}`)
    ).status,
  ).toBe(403);
  writeFileSync(
    policyFile,
    'roles:\n  viewer:\n    allow: [applications.list, applications.get]\n  admin:\n    allow: ["*"]\n',
  );
  await h.gateway.reload('SIGHUP');
  expect(
    (
      await h
        .api()
        .get('/v1/applications/wSPk9y5D7p5o87k0ACGKxR')
        .set('Authorization', `Bearer ${tokenFor('viewer')}`)
    ).status,
  ).toBe(200);
  expect((await allEntries(h)).at(-1)).toMatchObject({
    kind: 'system',
    operation: 'rotation.policy',
    details: { trigger: 'SIGHUP', result: 'reloaded' },
  });
});

test('when the new policy file is invalid, then the old policy stays in force, the log says so loudly, and the refusal is audited', async () => {
  writeFileSync(policyFile, 'roles:\n  viewer:\n    allow: [applications.destroy]\n');
  await h.gateway.reload('SIGHUP');
  expect((await list('viewer')).status).toBe(200);
  expect((await list('admin')).status).toBe(200);
  expect(h.logs.entries().filter((e) => String(e.msg).includes('POLICY REJECTED'))).toEqual([
    expect.objectContaining({ level: 50 }),
  ]);
  expect((await allEntries(h)).at(-1)).toMatchObject({
    operation: 'rotation.policy',
    details: {
      result: 'rejected',
      problems: expect.arrayContaining([expect.stringContaining('applications.destroy')]),
    },
  });
});
