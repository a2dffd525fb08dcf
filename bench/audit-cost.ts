/**
 * What auditing costs a mutation: the same POST /v1/applications/{id}/webhooks through two gateways in one run,
 * one with the real audit trail on Postgres, one with audit recording switched off (benchmark only), requests
 * alternating between them so both see the same machine. Prints median and p99 latency of each and the difference.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/audit-cost.ts [requests] [concurrency]
 */
import { Pool } from 'undici';
import { randomUUID } from 'node:crypto';
import type { AuditRecorder } from '../src/audit/recorder';
import { startHarness, type Harness } from '../test/helpers/harness';
import { tokenFor } from '../test/helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const noAudit: AuditRecorder = {
  recordIntent: async () => ({ eventId: randomUUID(), entry: undefined as never, startedAt: performance.now() }),
  recordOutcome: async () => undefined,
  recordRefusal: async () => undefined,
  recordAccess: async () => undefined,
  recordSystem: async () => undefined as never,
};

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 2000);
  const concurrency = Number(process.argv[3] ?? 1);
  const env = { LOG_LEVEL: 'silent' };
  const audited = await startHarness({ env });
  const unaudited = await startHarness({ env, deps: (d) => ({ ...d, audit: { ...d.audit, recorder: noAudit } }) });
  const token = tokenFor('admin');
  const run = async (h: Harness, pool: Pool) => {
    const started = performance.now();
    const res = await pool.request({ method: 'POST', path: `/v1/applications/${APP}/webhooks`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"url":"https://hooks.example.com/bench"}' });
    await res.body.dump();
    if (res.statusCode !== 201) throw new Error(`unexpected ${res.statusCode} from ${h.gatewayUrl}`);
    return performance.now() - started;
  };
  const pools = [new Pool(audited.gatewayUrl, { connections: concurrency }), new Pool(unaudited.gatewayUrl, { connections: concurrency })] as const;
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < 200; i++) await Promise.all([run(audited, pools[0]), run(unaudited, pools[1])]); // warm-up
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const which = i % 2;
        times[which]!.push(await run(which === 0 ? audited : unaudited, pools[which]!));
      }
    }),
  );
  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { n: xs.length, p50: at(0.5), p99: at(0.99) };
  };
  const [a, u] = [stats(times[0]), stats(times[1])];
  const entries = (await audited.deps.audit.store.latest())?.seq ?? 0n;
  const f = (x: number) => x.toFixed(2);
  process.stdout.write(
    [
      `backend: ${audited.database.backend}, requests: ${total} (alternating), concurrency: ${concurrency}`,
      `audited:   p50 ${f(a.p50)} ms, p99 ${f(a.p99)} ms (n=${a.n})`,
      `unaudited: p50 ${f(u.p50)} ms, p99 ${f(u.p99)} ms (n=${u.n})`,
      `added by auditing: p50 +${f(a.p50 - u.p50)} ms, p99 +${f(a.p99 - u.p99)} ms; audit entries written: ${entries}`,
      '',
    ].join('\n'),
  );
  await Promise.all(pools.map((p) => p.close()));
  await audited.close();
  await unaudited.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  },
);
