/**
 * The small per-request cuts of issue 16, each measured before/after in one process, alternating, so a shared
 * machine's noise hits both sides alike: the draft-8 partition key (a SHA-256 per response vs remembered per key),
 * and the metrics' label objects (built per request vs once per operation). (Writing a forwarded answer straight to
 * Node's response was measured here too: ~1%, within the noise, so it went in issue 27; bench/notes.md keeps it.)
 *
 *   npx tsx bench/lab/micro.ts [rounds=5]
 */
import { createHash } from 'node:crypto';
import { createMetrics } from '../../src/metrics/metrics';

const ROUNDS = Number(process.argv[2] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** µs of CPU per call of `fn`, over `n` calls. */
function perCall(n: number, fn: (i: number) => void): number {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

function compare(label: string, n: number, before: (i: number) => void, after: (i: number) => void): void {
  const a: number[] = [];
  const b: number[] = [];
  perCall(n / 10, before);
  perCall(n / 10, after);
  for (let r = 0; r < ROUNDS; r++) {
    a.push(perCall(n, before));
    b.push(perCall(n, after));
  }
  process.stdout.write(
    `${label}: before ${median(a).toFixed(2)} µs, after ${median(b).toFixed(2)} µs per request (medians of ${ROUNDS} rounds of ${n})\n`,
  );
}

async function main(): Promise<void> {
  const subs = Array.from({ length: 50 }, (_, i) => `user-${i}`);
  const remembered = new Map<string, string>();
  const hash = (key: string) =>
    Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
  // Two counters per read: the caller's budget and the upstream budget.
  compare(
    'draft-8 partition keys (2 per read)',
    100_000,
    (i) => {
      hash(subs[i % 50]!);
      hash('developer-key');
    },
    (i) => {
      for (const key of [subs[i % 50]!, 'developer-key']) {
        if (remembered.get(key) === undefined) remembered.set(key, hash(key));
      }
    },
  );

  const before = createMetrics();
  const after = createMetrics();
  const ops = ['applications.list', 'applications.get', 'webhooks.create'];
  const cached = new Map(
    ops.map((operation) => [
      operation,
      { operation: { operation }, status: { operation, status: '200' }, cls: { operation, status_class: '2xx' } },
    ]),
  );
  compare(
    'metrics of one request (3 observations)',
    100_000,
    (i) => {
      const label = ops[i % 3]!;
      before.requests.inc({ operation: label, status: String(200) });
      before.requestDuration.observe({ operation: label }, 0.002);
      before.upstreamDuration.observe({ operation: label, status_class: '2xx' }, 0.001);
    },
    (i) => {
      const l = cached.get(ops[i % 3]!)!;
      after.requests.inc(l.status);
      after.requestDuration.observe(l.operation, 0.002);
      after.upstreamDuration.observe(l.cls, 0.001);
    },
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
