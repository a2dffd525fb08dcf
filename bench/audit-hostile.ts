/**
 * The audit trail against hostile input (issue 18): what it costs the gateway when editors send maximal hostile
 * bodies, and what verification costs on a trail poisoned before the size bound existed.
 *
 * 1. A burst: EDITORS editor subjects send refused `POST /v1/applications` bodies of up to BODY_LIMIT (100 kB)
 *    built to be expensive to record (50,000 copies of one value under `token`; 20,000 distinct ones; 25,000
 *    URL-like strings; 25,000 empty objects), CONCURRENCY at a time for BURST_S seconds, while a prober asks
 *    `/healthz` every 20 ms. Reported: /healthz latency (p50/p99/max) before and during, the event loop's delay
 *    (perf_hooks, p99/max), and the largest entry stored.
 * 2. Verification of a poisoned trail: LEGACY entries as the gateway wrote them before the bound (3.8 MB each:
 *    50,000 fingerprints), chained properly after the burst's entries, then `GET /v1/audit/verify` twice at once
 *    while /healthz is probed and RSS sampled.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/audit-hostile.ts [--json]
 *
 * Gateway, simulator and client share this process: RSS is all three.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client as PgClient } from 'pg';
import { Pool } from 'undici';
import { hashedContent, nowMicros, type EntryContent } from '../src/audit/trail/entry';
import { MAX_ENTRY_BYTES } from '../src/audit/trail/size-bound';
import { systemEntry } from '../src/audit/recording/recorder';
import { startHarness } from '../test/helpers/harness';
import { createTestDatabase } from '../test/helpers/database';
import { tokenFor } from '../test/helpers/tokens';
import { exitWhenDone, fmt } from './lab/ab';

const EDITORS = 16;
const CONCURRENCY = 8;
const BURST_S = Number(process.env.HOSTILE_BURST_S ?? 10);
const LEGACY = Number(process.env.HOSTILE_LEGACY ?? 100);
const BODY_LIMIT = 100 * 1024;

export interface Latency {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface HostileFigures {
  burst: {
    seconds: number;
    requests: number;
    statuses: Record<string, number>;
    requestsPerS: number;
    cpuMsPerRequest: number;
  };
  healthz: { idle: Latency; duringBurst: Latency; duringVerify: Latency };
  eventLoopDuringBurst: { p99Ms: number; maxMs: number };
  stored: { boundBytes: number; maxEntryBytes: number; maxFingerprints: number; entries: number };
  verify: {
    legacyEntries: number;
    legacyEntryBytes: number;
    entries: number;
    ok: boolean;
    seconds: number;
    walks: number;
    baselineRssMb: number;
    peakRssMb: number;
    peakHeapMb: number;
  };
}

/** The hostile bodies, each as close to BODY_LIMIT as its shape allows. */
export function hostileBodies(): Buffer[] {
  const fill = (head: string, item: (i: number) => string, tail: string) => {
    const parts: string[] = [];
    let size = head.length + tail.length;
    for (let i = 0; ; i++) {
      const next = item(i);
      if (size + next.length + 1 > BODY_LIMIT) break;
      parts.push(next);
      size += next.length + 1;
    }
    return Buffer.from(`${head}${parts.join(',')}${tail}`);
  };
  return [
    fill('{"token":[', () => '0', ']}'),
    fill('{"token":[', (i) => String(i), ']}'),
    fill('{"name":"x","url":[', () => '"a:"', ']}'),
    fill('{"name":"x","a":[', () => '{}', ']}'),
  ];
}

function latency(xs: number[]): Latency {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { samples: s.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: s.at(-1) ?? 0 };
}

/** Asks /healthz every 20 ms until stopped; the latencies. */
function probe(url: string): { stop(): Promise<number[]> } {
  const pool = new Pool(url, { connections: 1 });
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const res = await pool.request({ method: 'GET', path: '/healthz' });
      await res.body.dump();
      times.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await pool.close();
      return times;
    },
  };
}

export async function auditHostile(): Promise<HostileFigures> {
  const db = await createTestDatabase('postgres');
  const h = await startHarness({ database: db, env: { LOG_LEVEL: 'silent' } });
  const mb = (b: number) => Math.round(b / 1024 / 1024);
  try {
    const idle = probe(h.gatewayUrl);
    await new Promise((r) => setTimeout(r, 3000));
    const idleTimes = await idle.stop();

    // 1. The burst.
    const bodies = hostileBodies();
    const tokens = Array.from({ length: EDITORS }, (_, i) => tokenFor('editor', `hostile-editor-${i}`));
    const pool = new Pool(h.gatewayUrl, { connections: CONCURRENCY });
    const statuses: Record<string, number> = {};
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const during = probe(h.gatewayUrl);
    loop.enable();
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    let sent = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        for (let i = worker; performance.now() - started < BURST_S * 1000; i += CONCURRENCY) {
          const res = await pool.request({
            method: 'POST',
            path: '/v1/applications',
            headers: { authorization: `Bearer ${tokens[i % EDITORS]}`, 'content-type': 'application/json' },
            body: bodies[i % bodies.length],
          });
          await res.body.dump();
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          sent++;
        }
      }),
    );
    const burstS = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    loop.disable();
    const burstTimes = await during.stop();
    await pool.close();

    const pg = new PgClient({ connectionString: db.url });
    await pg.connect();
    const [stored] = (
      await pg.query<{ bytes: number; fps: number; n: number }>(
        'SELECT max(octet_length(audit_entry::text))::int AS bytes, max(cardinality(fingerprints))::int AS fps, count(*)::int AS n FROM audit_entry',
      )
    ).rows;

    // 2. Entries as the gateway wrote them before the bound, chained after the head.
    const keys = h.deps.audit.keys;
    const fingerprint = keys.fingerprint('0');
    let head = (await h.deps.audit.store.latest())!;
    let legacyBytes = 0;
    for (let i = 0; i < LEGACY; i++) {
      const content: EntryContent = {
        ...systemEntry('bench.legacy'),
        at: nowMicros(),
        kind: 'decision',
        requestId: `legacy-${i}`,
        operation: 'applications.create',
        method: 'POST',
        path: '/v1/applications',
        requestBody: { omitted: true, reason: 'too large', bytes: 4_500_011 },
        outcome: 'invalid',
        errorCode: 'validation_failed',
        fingerprints: new Array<string>(50_000).fill(fingerprint),
      };
      const seq = head.seq + 1n;
      const hash = keys.chainHash(head.hash, hashedContent(seq, keys.keyId, content));
      const row = {
        seq: seq.toString(),
        at: content.at,
        kind: content.kind,
        event_id: content.eventId,
        request_id: content.requestId,
        actor_roles: [],
        operation: content.operation,
        method: content.method,
        path: content.path,
        request_body: content.requestBody,
        outcome: content.outcome,
        error_code: content.errorCode,
        fingerprints: content.fingerprints,
        key_id: keys.keyId,
        hash: `\\x${hash.toString('hex')}`,
      };
      const json = JSON.stringify(row);
      legacyBytes = json.length;
      await pg.query('INSERT INTO audit_entry SELECT * FROM jsonb_populate_record(null::audit_entry, $1::jsonb)', [
        json,
      ]);
      head = { ...content, seq, keyId: keys.keyId, hash };
    }
    await pg.end();

    global.gc?.();
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 50);
    const verifyProbe = probe(h.gatewayUrl);
    const walksBefore = h.deps.audit.walks.started();
    const verifyStarted = performance.now();
    const results = await Promise.all(
      ['hostile-auditor-1', 'hostile-auditor-2'].map(async (sub) => {
        const res = await fetch(`${h.gatewayUrl}/v1/audit/verify`, {
          headers: { authorization: `Bearer ${tokenFor('auditor', sub)}` },
        });
        return (await res.json()) as { ok: boolean; entries: number };
      }),
    );
    const verifyS = (performance.now() - verifyStarted) / 1000;
    clearInterval(sampler);
    const verifyTimes = await verifyProbe.stop();

    return {
      burst: {
        seconds: burstS,
        requests: sent,
        statuses,
        requestsPerS: sent / burstS,
        cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / sent,
      },
      healthz: { idle: latency(idleTimes), duringBurst: latency(burstTimes), duringVerify: latency(verifyTimes) },
      eventLoopDuringBurst: { p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6 },
      stored: {
        boundBytes: MAX_ENTRY_BYTES,
        maxEntryBytes: stored!.bytes,
        maxFingerprints: stored!.fps,
        entries: stored!.n,
      },
      verify: {
        legacyEntries: LEGACY,
        legacyEntryBytes: legacyBytes,
        entries: results[0]!.entries,
        ok: results.every((r) => r.ok),
        seconds: verifyS,
        walks: h.deps.audit.walks.started() - walksBefore,
        baselineRssMb: mb(baselineRss),
        peakRssMb: mb(peakRss),
        peakHeapMb: mb(peakHeap),
      },
    };
  } finally {
    await h.close();
    await db.drop();
  }
}

export function describeHostile(f: HostileFigures): string[] {
  const l = (x: Latency) =>
    `p50 ${fmt(x.p50Ms)} ms, p99 ${fmt(x.p99Ms)} ms, max ${fmt(x.maxMs)} ms (${x.samples} probes)`;
  const v = f.verify;
  return [
    `- burst: ${f.burst.requests} maximal hostile bodies in ${f.burst.seconds.toFixed(0)} s (${f.burst.requestsPerS.toFixed(0)}/s, ${EDITORS} editors, ${CONCURRENCY} at a time), answered ${Object.entries(
      f.burst.statuses,
    )
      .map(([s, n]) => `${n}× ${s}`)
      .join(', ')}; ${fmt(f.burst.cpuMsPerRequest)} ms of CPU per request (gateway and client)`,
    `- \`/healthz\` idle: ${l(f.healthz.idle)}`,
    `- \`/healthz\` during the burst: ${l(f.healthz.duringBurst)}`,
    `- event loop delay during the burst: p99 ${fmt(f.eventLoopDuringBurst.p99Ms)} ms, max ${fmt(f.eventLoopDuringBurst.maxMs)} ms`,
    `- largest entry stored: ${f.stored.maxEntryBytes} bytes as text (bound ${f.stored.boundBytes}), at most ${f.stored.maxFingerprints} fingerprints per entry, ${f.stored.entries} entries`,
    `- verification of a poisoned trail (${v.legacyEntries} entries of ${(v.legacyEntryBytes / 1024 / 1024).toFixed(1)} MB written before the bound, ${v.entries} entries in all), two verifications at once: ${v.ok ? 'ok' : 'BROKEN'} in ${v.seconds.toFixed(1)} s, ${v.walks} walk; RSS ${v.baselineRssMb} MB before, peak ${v.peakRssMb} MB; heap peak ${v.peakHeapMb} MB`,
    `- \`/healthz\` during that verification: ${l(f.healthz.duringVerify)}`,
  ];
}

if (require.main === module) {
  exitWhenDone(async () => {
    const f = await auditHostile();
    if (process.argv.includes('--json')) return void process.stdout.write(`${JSON.stringify(f)}\n`);
    process.stdout.write(`${describeHostile(f).join('\n')}\n`);
  });
}
