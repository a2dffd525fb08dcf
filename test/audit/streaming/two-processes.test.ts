import { Client } from 'pg';
import { createSimulator } from '../../../src/simulator/server';
import { deliveryProblems, httpsReceiver, loopbackCertificate, syslogTlsReceiver } from '../../helpers/audit-receivers';
import { createTestDatabase, SERVER_URL } from '../../helpers/database';
import { spawnGateway, type GatewayProcess } from '../../helpers/process';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const MUTATIONS = 2000;
const BATCH = 100;
// Two processes on one trail need a server Postgres; CI always has one.
const testWithPostgres = SERVER_URL ? test : test.skip;

testWithPostgres(
  'when two gateway processes stream one trail to an HTTPS and a syslog-over-TLS receiver that are down for part of 2,000 mutations, then every entry arrives in order, duplicates only within one re-sent batch, and no sink is streamed by both at once',
  async () => {
    const tls = loopbackCertificate();
    const https = await httpsReceiver(tls);
    const syslog = await syslogTlsReceiver(tls);
    const simulator = createSimulator({ developerKey: 'dk-stream', seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const httpsSink = `https://127.0.0.1:${https.port}/ingest`;
    const syslogSink = `syslog+tls://127.0.0.1:${syslog.port}?format=ocsf`;
    const env = {
      NODE_ENV: 'test',
      PORT: '0',
      KLOUDLESS_API_URL: upstream,
      KLOUDLESS_DEVELOPER_KEY: 'dk-stream',
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
      DATABASE_URL: db.url!,
      AUDIT_HMAC_KEY: 'streaming-audit-key-of-32-bytes-or-more',
      RATE_LIMIT_WRITES: '100000',
      AUDIT_SINKS: `${httpsSink},${syslogSink}`,
      AUDIT_SINK_BATCH_SIZE: String(BATCH),
      NODE_EXTRA_CA_CERTS: tls.caFile,
    };
    const gateways: GatewayProcess[] = [spawnGateway(env), spawnGateway(env)];
    const pg = new Client({ connectionString: db.url });
    try {
      const urls = await Promise.all(gateways.map((g) => g.ready));
      await pg.connect();
      const token = signToken({ sub: 'busy-bee', roles: ['admin'] });
      const mutate = async (i: number) => {
        const r = await fetch(`${urls[i % 2]}/v1/applications/${APP}/webhooks`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ url: `https://hooks.example.com/stream/${i}` }),
        });
        expect(r.status).toBe(201);
      };
      // 2,000 mutations, 8 at a time; both receivers are down from the first quarter to the third.
      let sent = 0;
      const worker = async () => {
        while (sent < MUTATIONS) {
          const i = sent++;
          if (i === MUTATIONS / 4) await Promise.all([https.down(), syslog.down()]);
          if (i === (3 * MUTATIONS) / 4) await Promise.all([https.up(), syslog.up()]);
          await mutate(i);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));

      // Caught up: both receivers hold the newest entry, and the trail has stopped growing (the caught-up entries).
      const head = async () => Number((await pg.query('SELECT max(seq) AS head FROM audit_entry')).rows[0].head);
      let last = -1;
      const giveUp = Date.now() + 60_000;
      for (let stable = 0; stable < 4;) {
        if (Date.now() > giveUp)
          throw new Error(
            `not caught up in 60 s: trail at ${last}, https at ${Math.max(0, ...https.received.seqs)}, syslog at ${Math.max(0, ...syslog.received.seqs)}`,
          );
        await new Promise((r) => setTimeout(r, 500));
        const now = await head();
        const arrived = Math.min(Math.max(0, ...https.received.seqs), Math.max(0, ...syslog.received.seqs));
        stable = now === last && arrived >= now ? stable + 1 : 0;
        last = now;
      }

      expect(last).toBeGreaterThanOrEqual(2 * MUTATIONS);
      expect(deliveryProblems(https.received.seqs, last, BATCH)).toEqual([]);
      expect(deliveryProblems(syslog.received.seqs, last, BATCH)).toEqual([]);
      expect(https.received.maxConcurrent).toBe(1);
      expect(syslog.received.overlaps).toBe(0);

      // Each event as stored: the native format is the entry as the API shows it, plus its leaf hash.
      const rows = (await pg.query('SELECT seq, encode(hash, $1) AS hash FROM audit_entry ORDER BY seq', ['hex']))
        .rows as { seq: string; hash: string }[];
      const native = new Map(https.received.events.map((e) => [String(e.sequence), e]));
      for (const row of rows) expect(native.get(row.seq)).toMatchObject({ sequence: row.seq, hash: row.hash });
      expect(https.received.events.every((e) => /^[0-9a-f]{64}$/.test(String(e.leaf_hash)))).toBe(true);
      const ocsf = syslog.received.events.find((e) => (e as { class_uid?: number }).class_uid === 6003);
      expect(ocsf).toMatchObject({ type_uid: 600301, metadata: { version: '1.8.0' } });

      // Each sink started failing once and caught up once, and said so in the trail (which they then received too).
      const system = (
        await pg.query(
          `SELECT operation, details->>'sink' AS sink FROM audit_entry WHERE kind = 'system' AND operation LIKE 'audit.sink_%' ORDER BY seq`,
        )
      ).rows as { operation: string; sink: string }[];
      for (const sink of [httpsSink, syslogSink])
        expect(system.filter((s) => s.sink === sink).map((s) => s.operation)).toEqual([
          'audit.sink_failing',
          'audit.sink_caught_up',
        ]);
      const cursors = (await pg.query('SELECT sink, acked_seq, failing_since FROM audit_sink_cursor ORDER BY sink'))
        .rows as { sink: string; acked_seq: string; failing_since: Date | null }[];
      expect(cursors).toEqual([
        { sink: httpsSink, acked_seq: String(last), failing_since: null },
        { sink: syslogSink, acked_seq: String(last), failing_since: null },
      ]);
    } finally {
      for (const g of gateways) g.child.kill('SIGTERM');
      await Promise.all(gateways.map((g) => g.exited));
      await pg.end().catch(() => undefined);
      await Promise.all([https.close(), syslog.close(), simulator.close()]);
      await db.drop();
    }
  },
  180_000,
);
