import { createRestartBackoff } from '../../src/cluster/backoff';

const options = { stableMs: 30_000, firstMs: 1_000, maxMs: 30_000 };

test('when a worker that had served a while dies, then it is replaced at once, however many did before', () => {
  const backoff = createRestartBackoff(options);
  expect([3_600_000, 30_000, 86_400_000].map((lived) => backoff.delayAfterDeath(lived))).toEqual([0, 0, 0]);
});

test('when workers die soon after they are forked (a crash loop), then each replacement waits twice as long, up to the cap', () => {
  const backoff = createRestartBackoff(options);
  const delays = Array.from({ length: 8 }, () => backoff.delayAfterDeath(500));
  expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
});

test('when a replacement then serves a while before it dies, then the loop is over and the delay starts again from nothing', () => {
  const backoff = createRestartBackoff(options);
  expect([100, 200, 300].map((lived) => backoff.delayAfterDeath(lived))).toEqual([1_000, 2_000, 4_000]);
  expect(backoff.delayAfterDeath(45_000)).toBe(0);
  expect(backoff.delayAfterDeath(100)).toBe(1_000);
});
