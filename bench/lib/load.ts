import autocannon from 'autocannon';

/** Latency in ms, from every response's own timing (autocannon's histogram truncates to whole ms). */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  label: string;
  /** 2xx responses per second over the measured run. */
  rps: number;
  ok: number;
  /** Non-2xx answers, plus connection errors and timeouts. */
  failed: number;
  /** Requests written to the wire, answered or not (autocannon's `requests.sent`). */
  sent: number;
  durationS: number;
  connections: number;
  /** Target rate when paced; undefined at saturation. */
  rate?: number;
  latency: Percentiles;
  /** [quantile, ms] points of the 2xx latency distribution, for the chart. */
  curve: [number, number][];
}

export type BenchRequest = autocannon.Request;

export interface LoadOptions {
  label: string;
  url: string;
  headers: Record<string, string>;
  /** One request repeated, or a sequence each connection cycles through (e.g. create then delete). */
  requests: BenchRequest[];
  connections: number;
  durationS: number;
  /** Requests per second across all connections; omitted: as fast as the target answers. */
  rate?: number;
}

export const CURVE_QUANTILES = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1];

/** Drives one target with autocannon in this process and measures every 2xx response's latency itself. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  let settle!: (err: unknown, result: autocannon.Result) => void;
  const done = new Promise<autocannon.Result>(
    (resolve, reject) => (settle = (err, result) => (err ? reject(err) : resolve(result))),
  );
  const options: autocannon.Options = {
    url: o.url,
    headers: o.headers,
    requests: o.requests,
    connections: o.connections,
    duration: o.durationS,
    timeout: 10,
    ...(o.rate ? { overallRate: o.rate, setupClient: paced(o.rate, Math.min(o.connections, o.rate)) } : {}),
  };
  const instance = autocannon(options, (err, result) => settle(err, result));
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
    else failed++;
  });
  instance.on('reqError', () => failed++);
  const result = await done;
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    label: o.label,
    rps: sorted.length / result.duration,
    ok: sorted.length,
    failed,
    sent: result.requests.sent,
    durationS: result.duration,
    connections: o.connections,
    rate: o.rate,
    latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? NaN },
    curve: CURVE_QUANTILES.map((q) => [q, at(q)]),
  };
}

/**
 * autocannon's overallRate gives each connection a per-second quota that it sends back to back at the top of
 * every second (httpClient.js: `reqsMadeThisSecond`, a 1 s `setInterval`), so "200 rps" arrives as a burst of
 * concurrent requests and measures queueing, not the unsaturated latency it is meant to. This keeps the
 * per-connection quota autocannon computed and spreads it evenly: connection i of n sends every 1000/quota ms,
 * offset by i/n of that period. The hooks used are autocannon 9 internals (`rate`, `_doRequest`, `destroyed`).
 */
function paced(totalRate: number, connections: number): (client: autocannon.Client) => void {
  const start = performance.now() + 20;
  let index = 0;
  return (client) => {
    const c = client as unknown as { rate: number; destroyed: boolean; _doRequest(): void };
    const quota = c.rate || Math.max(1, Math.round(totalRate / connections));
    const period = 1000 / quota;
    let next = start + (period * index++) / connections;
    c.rate = 0; // autocannon's own per-second limiter off: it is created after setupClient, and only if rate is set
    const send = Object.getPrototypeOf(c)._doRequest.bind(c) as () => void;
    c._doRequest = () => {
      const wait = next - performance.now();
      next += period;
      if (wait <= 0) send();
      else setTimeout(() => c.destroyed || send(), wait);
    };
  };
}

/** A few seconds of the same load, thrown away: JIT, connection pools and caches warm before measuring. */
export async function warmUp(o: LoadOptions, seconds = 3): Promise<void> {
  await runLoad({ ...o, label: `${o.label} (warm-up)`, durationS: seconds });
}
