import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.yaml');
writeFileSync(
  policyFile,
  'roles:\n  key-operator:\n    allow: [apikeys.list, apikeys.create]\n  admin:\n    allow: ["*", apikeys.reveal, audit.read]\n',
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { POLICY_FILE: policyFile } });
});
afterAll(async () => h.close());

test('when a role without apikeys.reveal creates or lists keys, then it sees only their last 4 characters', async () => {
  const operator = tokenFor('key-operator');
  const created = await h.api().post(`/v1/applications/${APP}/apikeys`).set('Authorization', `Bearer ${operator}`);
  expect(created.status).toBe(201);
  expect(created.body.key).toMatch(/^\*{4}[A-Za-z0-9]{4}$/);
  const real = h.simulator.store.listApiKeys(APP)!.map((k) => k.key);
  expect(real.filter((k) => k.endsWith(created.body.key.slice(4)))).toEqual([expect.any(String)]);
  const listed = await h.api().get(`/v1/applications/${APP}/apikeys`).set('Authorization', `Bearer ${operator}`);
  for (const { key } of listed.body.objects) expect(key).toMatch(/^\*{4}/);
  expect(listed.text).not.toMatch(new RegExp(real.join('|')));
});

test('when a role with apikeys.reveal lists keys, then it sees them in full', async () => {
  const listed = await h
    .api()
    .get(`/v1/applications/${APP}/apikeys`)
    .set('Authorization', `Bearer ${tokenFor('admin')}`);
  expect(listed.body.objects.map((k: { key: string }) => k.key).sort()).toEqual(
    h.simulator.store
      .listApiKeys(APP)!
      .map((k) => k.key)
      .sort(),
  );
});
