import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/load';
import { loadPolicy, roleDecision as decide } from '../../src/policy/policy';

const dir = mkdtempSync(join(tmpdir(), 'policy-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

test('when a YAML policy uses wildcards, then they expand to the matching operations', () => {
  const policy = loadPolicy(file('p.yaml', 'roles:\n  ops:\n    allow: ["webhooks.*", "*.list"]\n'));
  expect([...policy.grants.get('ops')!].sort()).toEqual([
    'apikeys.list',
    'applications.list',
    'webhooks.create',
    'webhooks.delete',
    'webhooks.get',
    'webhooks.list',
  ]);
  expect(decide(policy, ['ops'], 'webhooks.delete')).toEqual({
    allowed: true,
    reason: 'role_grants_permission',
    role: 'ops',
    scope: 'team',
  });
  expect(decide(policy, ['ops'], 'applications.delete')).toEqual({
    allowed: false,
    reason: 'no_role_grants_permission',
  });
});

test('when roles grant the same permission with different scopes, then the widest applies, and a role that names none is team-scoped', () => {
  const policy = loadPolicy(
    file(
      's.yaml',
      'roles:\n  teamed:\n    allow: ["applications.get"]\n  global:\n    allow: ["applications.*"]\n    scope: any\n',
    ),
  );
  expect(decide(policy, ['teamed'], 'applications.get')).toMatchObject({ allowed: true, scope: 'team' });
  expect(decide(policy, ['teamed', 'global'], 'applications.get')).toMatchObject({
    allowed: true,
    role: 'global',
    scope: 'any',
  });
  expect(() =>
    loadPolicy(file('bad.yaml', 'roles:\n  r:\n    allow: ["applications.get"]\n    scope: everyone\n')),
  ).toThrow(/scope/);
});

test('when a JSON policy is given, then it is read as JSON', () => {
  const policy = loadPolicy(file('p.json', JSON.stringify({ roles: { reader: { allow: ['applications.get'] } } })));
  expect(decide(policy, ['reader'], 'applications.get').allowed).toBe(true);
});

test.each([
  ['an unknown operation', 'roles:\n  x:\n    allow: ["applications.destroy"]\n', /names no known permission/],
  ['a wildcard that matches nothing', 'roles:\n  x:\n    allow: ["accounts.*"]\n', /accounts\.\*/],
  ['a role without allow', 'roles:\n  x:\n    deny: ["*"]\n', /allow|deny/],
  ['roles as a list', 'roles:\n  - admin\n', /roles/],
  ['a role name with spaces', 'roles:\n  "my role":\n    allow: []\n', /role names/],
  ['invalid YAML', 'roles: [\n', /not valid YAML/],
  ['a role named __proto__', 'roles:\n  __proto__:\n    allow: ["*"]\n', /__proto__/],
])('when the policy has %s, then start-up fails with a clear message', (_label, text, message) => {
  const path = file(`bad-${Math.random()}.yaml`, text);
  expect(() => loadPolicy(path)).toThrow(ConfigError);
  expect(() => loadPolicy(path)).toThrow(message);
});

test('when the policy file is missing, then start-up fails naming it', () => {
  expect(() => loadPolicy(join(dir, 'absent.yaml'))).toThrow(/cannot read .*absent\.yaml \(ENOENT\)/);
});

test('when a policy file relies on a wildcard for a gateway permission, then it is warned about by role; the built-in policy, which withholds approvals.bypass on purpose, warns about nothing', () => {
  const policy = loadPolicy(file('w.yaml', 'roles:\n  ops:\n    allow: ["*", "audit.read"]\n'));
  expect(policy.warnings).toEqual(
    expect.arrayContaining([expect.stringMatching(/roles\.ops\.allow: "\*" does not grant approvals\.bypass/)]),
  );
  expect(policy.warnings.some((w) => w.includes('does not grant audit.read'))).toBe(false);
  expect(loadPolicy(undefined).warnings).toEqual([]);
});
