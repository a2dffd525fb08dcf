import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backoffMs } from '../../../src/audit/stream/streamer';
import { allEntries } from '../../helpers/audit';
import { startHarness, type Harness } from '../../helpers/harness';
import { tokenFor } from '../../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

/** Splunk HEC over loopback http, syslog over plain TCP and a rotated file, on one gateway. */
describe('audit sinks: the Splunk envelope, syslog over TCP, a rotated file, and the lag metric', () => {
  let h: Harness;
  const hec: { headers: IncomingHttpHeaders; lines: string[] }[] = [];
  const syslog: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sinks-'));
  const file = join(dir, 'audit.ndjson');
  const hecServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hec.push({ headers: req.headers, lines: Buffer.concat(chunks).toString().split('\n').filter(Boolean) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
    });
  });
  let buffered = '';
  const syslogServer = createTcpServer((s) =>
    s.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      for (let m = /^(\d+) /.exec(buffered); m; m = /^(\d+) /.exec(buffered)) {
        const length = Number(m[1]);
        const start = m[0].length;
        if (Buffer.byteLength(buffered.slice(start)) < length) break;
        syslog.push(buffered.slice(start, start + length));
        buffered = buffered.slice(start + length);
      }
    }),
  );
  const listen = (server: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown }) =>
    new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );

  beforeAll(async () => {
    const [hecPort, syslogPort] = await Promise.all([listen(hecServer), listen(syslogServer)]);
    h = await startHarness({
      env: {
        AUDIT_SINKS: [
          `http://hec:s3cr3t-hec-token@127.0.0.1:${hecPort}/services/collector/event?envelope=splunk-hec`,
          `syslog+tcp://127.0.0.1:${syslogPort}?format=ocsf`,
          `file://${file}?max_bytes=4096&keep=2`,
        ].join(','),
        AUDIT_SINK_BATCH_SIZE: '5',
      },
    });
    for (let i = 0; i < 12; i++)
      await h
        .api()
        .post(`/v1/applications/${APP}/webhooks`)
        .set('Authorization', `Bearer ${tokenFor('admin')}`)
        .send({ url: `https://hooks.example.com/sinks/${i}` })
        .expect(201);
  }, 60_000);
  afterAll(async () => {
    await h.close();
    hecServer.close();
    syslogServer.close();
  });

  const waitFor = async (done: () => boolean) => {
    for (let i = 0; i < 60 && !done(); i++) await new Promise((r) => setTimeout(r, 200));
  };

  test('when the trail grows, then every sink receives all of it and the lag falls to 0', async () => {
    const head = Number((await allEntries(h)).at(-1)!.seq);
    const hecSeqs = () =>
      hec.flatMap((b) => b.lines.map((l) => Number((JSON.parse(l) as { event: { sequence: string } }).event.sequence)));
    const fileLines = () =>
      readdirSync(dir)
        .sort()
        .reverse()
        .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
    const lastInFile = () => Number((JSON.parse(fileLines().at(-1) ?? '{}') as { sequence?: string }).sequence ?? 0);
    await waitFor(() => hecSeqs().length >= head && syslog.length >= head && lastInFile() === head);
    expect(hecSeqs()).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(syslog.map((m) => Number(/seq="(\d+)"/.exec(m)![1]))).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    // Rotated by size: the file and at most `keep` older ones; what was rotated away is the oldest.
    expect(readdirSync(dir).sort()).toEqual(['audit.ndjson', 'audit.ndjson.1', 'audit.ndjson.2']);
    const kept = fileLines().map((l) => Number((JSON.parse(l) as { sequence: string }).sequence));
    expect(kept.at(-1)).toBe(head);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => head - kept.length + 1 + i));
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(4096 + 2048);

    const lag = () => h.gateway.metrics.registry.getSingleMetricAsString('gateway_audit_sink_lag_entries');
    for (let i = 0; i < 20 && /} [1-9]/.test(await lag()); i++) await new Promise((r) => setTimeout(r, 200));
    const metrics = await lag();
    for (const sink of ['envelope=splunk-hec', 'syslog+tcp', 'audit.ndjson'])
      expect(metrics).toMatch(new RegExp(`sink="[^"]*${sink.replace(/[.+]/g, '\\$&')}[^"]*"} 0$`, 'm'));
    expect(metrics).not.toContain('s3cr3t-hec-token');
  });

  test('when the envelope is splunk-hec, then each line is an HEC event and the token is sent as Splunk auth', () => {
    expect(hec[0]!.headers['authorization']).toBe('Splunk s3cr3t-hec-token');
    expect(hec[0]!.headers['content-type']).toBe('application/x-ndjson');
    expect(hec.every((b) => b.lines.length <= 5)).toBe(true);
    const first = JSON.parse(hec[0]!.lines[0]!) as { time: number; sourcetype: string; event: Record<string, unknown> };
    expect(first).toMatchObject({ sourcetype: 'kloudless:audit', event: { sequence: '1', kind: 'request' } });
    expect(first.time).toBeCloseTo(Date.parse(String(first.event.time)) / 1000, 3);
  });

  test('when a syslog message is framed, then it is RFC 5424 with the OCSF event as its message', () => {
    const [message] = syslog;
    expect(message).toMatch(
      /^<110>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \S+ kloudless-gateway \d+ request \[audit@32473 seq="1"\] \{/,
    );
    const event = JSON.parse(message!.slice(message!.indexOf('] ') + 2)) as { metadata: { sequence: number } };
    expect(event.metadata.sequence).toBe(1);
  });
});

test('when batches keep failing, then the wait doubles up to its ceiling, with up to half taken off at random', () => {
  const t = { backoffFirstMs: 250, backoffMaxMs: 10_000 };
  expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, t, () => 1))).toEqual([
    250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000,
  ]);
  expect(backoffMs(3, t, () => 0)).toBe(500);
});
