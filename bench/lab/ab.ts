import { Pool } from 'undici';
import type { Harness } from '../../test/helpers/harness';

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  rps: number;
}

export interface AbRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  expectStatus: number;
}

/**
 * The same request through two gateways in one run, alternating between them so both see the same
 * machine at the same moments; the figures to compare are the ratios, not the absolute numbers.
 */
export async function compareGateways(
  a: Harness,
  b: Harness,
  token: string,
  request: AbRequest,
  total: number,
  concurrency: number,
): Promise<[Latency, Latency]> {
  const pools = [
    new Pool(a.gatewayUrl, { connections: concurrency }),
    new Pool(b.gatewayUrl, { connections: concurrency }),
  ];
  const headers = { authorization: `Bearer ${token}`, ...(request.body ? { 'content-type': 'application/json' } : {}) };
  const once = async (which: number) => {
    const started = performance.now();
    const res = await pools[which]!.request({
      method: request.method,
      path: request.path,
      headers,
      body: request.body,
    });
    await res.body.dump();
    if (res.statusCode !== request.expectStatus)
      throw new Error(`unexpected ${res.statusCode} from gateway ${which ? 'B' : 'A'}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 200; i++) await Promise.all([once(0), once(1)]); // warm-up: JIT, pools, caches
  const times: [number[], number[]] = [[], []];
  const busy = [0, 0];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const which = next++ % 2;
        const took = await once(which);
        times[which]!.push(took);
        busy[which]! += took;
      }
    }),
  );
  await Promise.all(pools.map((p) => p.close()));
  return [summarise(times[0], busy[0]!, concurrency), summarise(times[1], busy[1]!, concurrency)];
}

function summarise(xs: number[], busyMs: number, concurrency: number): Latency {
  const sorted = [...xs].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  // Each of the `concurrency` workers spends half its time on this gateway.
  return { n: xs.length, p50: at(0.5), p99: at(0.99), rps: xs.length / (busyMs / 1000 / (concurrency / 2)) };
}

export const fmt = (x: number) => x.toFixed(2);

export function exitWhenDone(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
