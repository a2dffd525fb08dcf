import { randomBytes } from 'node:crypto';

/**
 * The Redis the shared-counter tests use, when one is configured (TEST_REDIS_URL, e.g. redis://127.0.0.1:6379).
 * Under CI=true it must be set: a missing service fails the run instead of quietly testing less.
 */
export const REDIS_URL = process.env.TEST_REDIS_URL || undefined;
if (!REDIS_URL && process.env.CI === 'true')
  throw new Error('CI=true but TEST_REDIS_URL is not set: the Redis tests cannot be skipped in CI');

export type CounterStore = 'memory' | 'redis';
export const COUNTER_STORES: CounterStore[] = REDIS_URL ? ['memory', 'redis'] : ['memory'];

/** Settings that put a gateway's counters in Redis under a prefix of this test's own (tests share one Redis). */
export function redisEnv(
  store: CounterStore,
  prefix = `kgw-test-${randomBytes(4).toString('hex')}:`,
): Record<string, string> {
  if (store === 'memory') return {};
  if (!REDIS_URL) throw new Error('no Redis configured (TEST_REDIS_URL)');
  return { REDIS_URL, REDIS_PREFIX: prefix };
}
