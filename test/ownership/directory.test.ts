import { createApplicationDirectory } from '../../src/ownership/directory';
import { createUpstream } from '../../src/upstream/client';
import { createSimulator, type Simulator } from '../../src/simulator/server';

/** The directory against the simulator, with a clock the test moves: stale entries live exactly as long as allowed. */
let simulator: Simulator;
let upstream: ReturnType<typeof createUpstream>;
beforeAll(async () => {
  simulator = createSimulator({ developerKey: 'dk-directory-test', seed: false });
  const url = await simulator.listen(0, '127.0.0.1');
  upstream = createUpstream({
    baseUrl: url,
    developerKey: () => 'dk-directory-test',
    timeoutMs: 2000,
    connections: 4,
    maxResponseBytes: 50_000_000,
  });
  for (let i = 0; i < 2_345; i++) simulator.store.createApplication({ name: `App ${i}` });
});
afterAll(async () => {
  await upstream.close();
  await simulator.close();
});

test('when the directory is read within its max age, then no upstream request is made; past it, one walk of ceil(n/1000) pages', async () => {
  let now = 0;
  const directory = createApplicationDirectory({ upstream, maxAgeMs: 5_000, clock: () => now });
  simulator.clearRequests();
  const first = await directory.snapshot();
  expect(first.applications).toHaveLength(2_345);
  expect(new Set(first.applications.map((a) => a.id)).size).toBe(2_345);
  expect(simulator.requests).toHaveLength(3);
  now = 5_000;
  await directory.snapshot();
  expect(simulator.requests).toHaveLength(3);
  const renamed = first.applications[0]!.id;
  simulator.store.updateApplication(renamed, { name: 'Renamed' });
  now = 5_001;
  const second = await directory.snapshot();
  expect(simulator.requests).toHaveLength(6);
  expect(second.applications[0]).toMatchObject({ id: renamed, name: 'Renamed' });
});

test('when many callers ask at once, then they share one walk', async () => {
  const directory = createApplicationDirectory({ upstream, maxAgeMs: 0 });
  simulator.clearRequests();
  const snapshots = await Promise.all(Array.from({ length: 20 }, () => directory.snapshot()));
  expect(new Set(snapshots).size).toBe(1);
  expect(simulator.requests).toHaveLength(3);
});

test('when the directory is invalidated during a walk, then the next caller waits for a new walk', async () => {
  const directory = createApplicationDirectory({ upstream, maxAgeMs: 60_000 });
  const during = directory.snapshot();
  directory.invalidate();
  const after = directory.snapshot();
  expect(await after).not.toBe(await during);
});

test('when the upstream cannot list, then the directory refuses with upstream_bad_response instead of an empty list', async () => {
  const directory = createApplicationDirectory({ upstream, maxAgeMs: 0 });
  simulator.setFault({ kind: 'status', status: 500, times: 1 });
  await expect(directory.snapshot()).rejects.toMatchObject({ code: 'upstream_bad_response' });
  expect((await directory.snapshot()).applications).toHaveLength(2_345);
});
