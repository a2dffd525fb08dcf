import { randomUUID } from 'node:crypto';
import { systemEntry } from '../../src/audit/recording/recorder';
import { allEntries } from '../helpers/audit';
import { BACKENDS, createTestDatabase } from '../helpers/database';
import { startHarness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

describe.each(BACKENDS)('recovery of unfinished audit entries on %s', (backend) => {
  test('when a restart finds request entries without an outcome, then old ones are completed as outcome_unknown and recent ones left alone', async () => {
    const db = await createTestDatabase(backend, { migrated: true });
    try {
      const first = await startHarness({ database: db, env: { UPSTREAM_TIMEOUT_MS: '1000' } });
      const request = (at: string) => ({
        ...systemEntry('x'),
        kind: 'request' as const,
        at,
        eventId: randomUUID(),
        requestId: `req-${at}`,
        operation: 'applications.delete',
        actorSub: 'gone',
      });
      const old = await first.deps.audit.store.append(
        request(new Date(Date.now() - 60_000).toISOString().replace('Z', '000Z')),
      );
      // Another instance's request in flight: stamped ahead, so it is younger than the cutoff however slowly this
      // machine starts the second instance (the cutoff is the upstream timeout and a margin before the start).
      const recent = await first.deps.audit.store.append(
        request(new Date(Date.now() + 600_000).toISOString().replace('Z', '000Z')),
      );
      await first.close();

      const second = await startHarness({ database: db, env: { UPSTREAM_TIMEOUT_MS: '1000' } });
      try {
        const entries = await allEntries(second);
        const completions = entries.filter((e) => e.kind === 'response');
        expect(completions).toHaveLength(1);
        expect(completions[0]).toMatchObject({
          eventId: old.eventId,
          outcome: 'outcome_unknown',
          operation: 'applications.delete',
          actorSub: 'gone',
          details: { recovered: true, request_seq: old.seq.toString() },
        });
        expect(entries.filter((e) => e.kind === 'response' && e.eventId === recent.eventId)).toEqual([]);
        expect(second.logs.lines.join('\n')).toMatch(/marked outcome_unknown/);
        const verify = await second
          .api()
          .get('/v1/audit/verify')
          .set('Authorization', `Bearer ${tokenFor('auditor')}`);
        expect(verify.body.ok).toBe(true);
      } finally {
        await second.close();
      }
    } finally {
      await db.drop();
    }
  }, 60_000);
});
