import { randomUUID } from 'node:crypto';
import { systemEntry } from '../../src/audit/recording/recorder';
import { OwnerMoved } from '../../src/audit/trail/store';
import type { EntryContent } from '../../src/audit/trail/entry';
import { startHarness, type Harness } from '../helpers/harness';
import { allEntries } from '../helpers/audit';

/**
 * A request entry carries the owner it was decided on, checked where it is appended (issue 26). The check reads
 * application_owner in the group's statement, before the group's rows go in; the entry that moves an owner changes
 * that table as it is inserted. So an entry decided on the owner it replaces, queued behind it in one group commit,
 * must be checked by the next statement (found by the review of 2026-12-08: it committed, and would have been sent).
 */
describe('the owner check and a change of owner in the same group commit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ unowned: true });
  });
  afterAll(async () => h.close());

  const assign = (applicationId: string, team: string): EntryContent => ({
    ...systemEntry('ownership.assign'),
    kind: 'response',
    outcome: 'success',
    operation: 'ownership.assign',
    applicationId,
    team,
    actorSub: 'admin',
  });
  const request = (applicationId: string, team: string): EntryContent => ({
    ...systemEntry('applications.update'),
    kind: 'request',
    operation: 'applications.update',
    eventId: randomUUID(),
    applicationId,
    team,
    actorSub: 'editor',
  });

  test('when a transfer and a request decided on the old owner are queued together, then the request is refused, not committed', async () => {
    const store = h.deps.audit.store;
    const app = `app${randomUUID().replace(/-/g, '').slice(0, 18)}`;
    await store.append(assign(app, 'amber'));
    // Queued without waiting, one behind the other: the flush loop takes them as one group when it can.
    const warmUp = store.append(systemEntry('warm-up'));
    const moved = store.append(assign(app, 'olive'));
    const stale = store.append(request(app, 'amber'), { owner: { applicationId: app, team: 'amber' } });
    await warmUp;
    await moved;
    await expect(stale).rejects.toBeInstanceOf(OwnerMoved);
    await expect(stale).rejects.toMatchObject({ applicationId: app, team: 'olive' });
    expect((await h.gateway.ownership.ownerOf(app))?.team).toBe('olive');
    // Nothing decided on amber was written after olive took it.
    const latest = await store.latest();
    expect(latest).toMatchObject({ operation: 'ownership.assign', team: 'olive' });
  });

  test('when the request was decided on the new owner, then it goes through behind the transfer', async () => {
    const store = h.deps.audit.store;
    const app = `app${randomUUID().replace(/-/g, '').slice(0, 18)}`;
    await store.append(assign(app, 'amber'));
    const warmUp = store.append(systemEntry('warm-up'));
    const moved = store.append(assign(app, 'olive'));
    const fresh = store.append(request(app, 'olive'), { owner: { applicationId: app, team: 'olive' } });
    await Promise.all([warmUp, moved]);
    await expect(fresh).resolves.toMatchObject({ operation: 'applications.update', team: 'olive' });
  });

  test('when two changes of owner were decided on the same owner, then only the first moves it; the other is refused and answered in the trail', async () => {
    const recorder = h.deps.audit.recorder;
    const app = `app${randomUUID().replace(/-/g, '').slice(0, 18)}`;
    await recorder.recordOwnershipChange(undefined, { applicationId: app, from: null, to: 'amber', via: 'assign' });
    const results = await Promise.allSettled([
      recorder.recordOwnershipChange(undefined, { applicationId: app, from: 'amber', to: 'olive', via: 'assign' }),
      recorder.recordOwnershipChange(undefined, { applicationId: app, from: 'amber', to: 'plum', via: 'assign' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(OwnerMoved);
    const winner = results[0]!.status === 'fulfilled' ? 'olive' : 'plum';
    expect((await h.gateway.ownership.ownerOf(app))?.team).toBe(winner);
    const entries = (await allEntries(h)).filter((e) => e.applicationId === app && e.operation === 'ownership.assign');
    expect(
      entries
        .filter((e) => e.kind === 'response')
        .map((e) => e.outcome)
        .sort(),
    ).toEqual(['not_forwarded', 'success', 'success']);
  });
});
