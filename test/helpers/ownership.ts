import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Harness } from './harness';

/** Gives an application to a team the way the gateway does: through the audit trail (two entries, the projection applies them). */
export async function own(h: Harness, applicationId: string, team: string): Promise<void> {
  const current = await h.deps.ownership.store.ownerOf(applicationId);
  await h.deps.audit.recorder.recordOwnershipChange(undefined, {
    applicationId,
    from: current?.team ?? null,
    to: team,
    via: 'local_default',
  });
}

/** A fresh application in the simulator, owned by `team` (or by nobody). */
export async function ownedApplication(h: Harness, team: string | null, name = 'Owned'): Promise<string> {
  const app = h.simulator.store.createApplication({ name });
  if (team) await own(h, app.id, team);
  return app.id;
}

/** A policy file where `member` holds every Management operation with team scope, and `global` with any scope. */
export function scopedPolicyFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-policy-')), 'policy.yaml');
  writeFileSync(
    file,
    [
      '# These tests are about ownership: nothing waits for a second person (test/approvals covers that).',
      'approvals: {}',
      'roles:',
      '  member:',
      '    allow: ["applications.*", "apikeys.*", "webhooks.*"]',
      '    scope: team',
      '  global:',
      '    allow: ["applications.*", "apikeys.*", "webhooks.*", "ownership.manage"]',
      '    scope: any',
      '  admin:',
      '    allow: ["*", "apikeys.reveal", "audit.read", "ownership.manage"]',
      '    scope: any',
      '  team-auditor:',
      '    allow: ["audit.read"]',
      '    scope: team',
      '  auditor:',
      '    allow: ["audit.read"]',
      '    scope: any',
      '',
    ].join('\n'),
  );
  return file;
}
