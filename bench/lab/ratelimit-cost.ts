/**
 * What Redis-backed rate-limit counters cost a request against in-memory ones: GET /v1/applications through
 * two gateways in one run, identical but for REDIS_URL.
 *
 *   TEST_REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/lab/ratelimit-cost.ts [requests] [concurrency]
 */
import { startHarness } from '../../test/helpers/harness';
import { redisEnv } from '../../test/helpers/redis';
import { tokenFor } from '../../test/helpers/tokens';
import { compareGateways, exitWhenDone, fmt } from './ab';

exitWhenDone(async () => {
  const total = Number(process.argv[2] ?? 4000);
  const concurrency = Number(process.argv[3] ?? 8);
  const env = { LOG_LEVEL: 'silent', UPSTREAM_RATE_LIMIT: '100000' };
  const redis = await startHarness({ env: { ...env, ...redisEnv('redis') } });
  const memory = await startHarness({ env });
  const [r, m] = await compareGateways(
    redis,
    memory,
    tokenFor('viewer'),
    { method: 'GET', path: '/v1/applications', expectStatus: 200 },
    total,
    concurrency,
  );
  process.stdout.write(
    [
      `${total} reads alternating; concurrency ${concurrency}; limits: per person + failed-auth + upstream budget`,
      `redis counters:  p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, ~${r.rps.toFixed(0)} rps`,
      `memory counters: p50 ${fmt(m.p50)} ms, p99 ${fmt(m.p99)} ms, ~${m.rps.toFixed(0)} rps`,
      `redis / memory: p50 ${fmt(r.p50 / m.p50)}x, p99 ${fmt(r.p99 / m.p99)}x, throughput ${fmt(r.rps / m.rps)}x; added p50 +${fmt(r.p50 - m.p50)} ms`,
      '',
    ].join('\n'),
  );
  await redis.close();
  await memory.close();
});
