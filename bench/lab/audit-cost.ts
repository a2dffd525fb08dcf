/**
 * What auditing costs a mutation: POST /v1/applications/{id}/webhooks through two gateways in one run, one
 * with the real audit trail, one with audit recording switched off (benchmark only).
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/lab/audit-cost.ts [requests] [concurrency]
 */
import { randomUUID } from 'node:crypto';
import type { AuditRecorder } from '../../src/audit/recording/recorder';
import { startHarness } from '../../test/helpers/harness';
import { tokenFor } from '../../test/helpers/tokens';
import { compareGateways, exitWhenDone, fmt } from './ab';

const noAudit: AuditRecorder = {
  recordIntent: async () => ({ eventId: randomUUID(), entry: undefined as never, startedAt: performance.now() }),
  recordOutcome: async () => undefined,
  recordRefusal: async () => undefined,
  recordAccess: async () => undefined,
  recordOwnershipChange: async () => undefined,
  commit: async () => undefined as never,
  commitQuietly: async () => undefined,
  recordSystem: async () => undefined as never,
};

exitWhenDone(async () => {
  const total = Number(process.argv[2] ?? 2000);
  const concurrency = Number(process.argv[3] ?? 1);
  const env = { LOG_LEVEL: 'silent' };
  const audited = await startHarness({ env });
  const unaudited = await startHarness({ env, deps: (d) => ({ ...d, audit: { ...d.audit, recorder: noAudit } }) });
  const request = {
    method: 'POST' as const,
    path: '/v1/applications/wSPk9y5D7p5o87k0ACGKxR/webhooks',
    body: '{"url":"https://hooks.example.com/bench"}',
    expectStatus: 201,
  };
  const [a, u] = await compareGateways(audited, unaudited, tokenFor('admin'), request, total, concurrency);
  const entries = (await audited.deps.audit.store.latest())?.seq ?? 0n;
  process.stdout.write(
    [
      `audit store: ${audited.database.backend}; ${total} mutations alternating; concurrency ${concurrency}`,
      `audited:   p50 ${fmt(a.p50)} ms, p99 ${fmt(a.p99)} ms, ~${a.rps.toFixed(0)} rps`,
      `unaudited: p50 ${fmt(u.p50)} ms, p99 ${fmt(u.p99)} ms, ~${u.rps.toFixed(0)} rps`,
      `added by auditing: p50 +${fmt(a.p50 - u.p50)} ms, p99 +${fmt(a.p99 - u.p99)} ms; audit entries written: ${entries}`,
      '',
    ].join('\n'),
  );
  await audited.close();
  await unaudited.close();
});
