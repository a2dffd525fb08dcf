/**
 * Where a read's allocations come from (issue 16: young-generation pressure): V8's sampling heap profiler, counting
 * objects the collector has already freed too, over 3,000 `GET /v1/applications` through a gateway in this process
 * (the simulator and the client run here too). Each sample is charged to the innermost frame of the gateway's own
 * code (src/) on its stack, so a line is "what this step and everything it calls allocated".
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/lab/allocation.ts
 */
import { Session } from 'node:inspector/promises';
import { Pool } from 'undici';
import { startHarness } from '../../test/helpers/harness';
import { tokenFor } from '../../test/helpers/tokens';

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

async function main() {
  const h = await startHarness({ env: { LOG_LEVEL: 'info' } });
  const pool = new Pool(h.gatewayUrl, { connections: 4 });
  const auth = `Bearer ${tokenFor('admin')}`;
  const run = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next++ < n)
          await (
            await pool.request({ method: 'GET', path: '/v1/applications', headers: { authorization: auth } })
          ).body.text();
      }),
    );
  };
  await run(1000);
  const s = new Session();
  s.connect();
  await s.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const N = 3000;
  await run(N);
  const { profile } = (await s.post('HeapProfiler.stopSampling')) as { profile: { head: SampleNode } };
  const agg = new Map<string, number>();
  const self = new Map<string, number>();
  let total = 0;
  const walk = (node: SampleNode, stack: string[]) => {
    const f = node.callFrame;
    // Line numbers are left out: under tsx they are the transpiled file's.
    const here = `${f.functionName || '(anon)'}@${f.url.replace(/.*node_modules\//, '').replace(/^(file:\/\/)?\/.*?\/(src|test|bench)\//, '$2/')}`;
    const own = node.selfSize as number;
    if (own > 0) {
      total += own;
      // attribute to the nearest frame in src/ (gateway), else the package frame
      const key = [...stack, here].reverse().find((x) => x.includes('@src/')) ?? here;
      agg.set(key, (agg.get(key) ?? 0) + own);
      self.set(here, (self.get(here) ?? 0) + own);
    }
    for (const c of node.children ?? []) walk(c, [...stack, here]);
  };
  walk(profile.head, []);
  console.log(
    `sampled allocation per read: ${(total / N / 1024).toFixed(1)} KB (includes the in-process simulator and client)`,
  );
  console.log('\nby the innermost gateway step (src/) on the stack:');
  for (const [k, b] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`${(b / N / 1024).toFixed(2).padStart(7)} KB  ${k}`);
  console.log('\nby the allocating function:');
  for (const [k, b] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20))
    console.log(`${(b / N / 1024).toFixed(2).padStart(7)} KB  ${k}`);
  await pool.close();
  await h.close();
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
