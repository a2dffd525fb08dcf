import { randomBytes } from 'node:crypto';
import { createSimulator } from '../../src/simulator/server';
import { createTestDatabase, SERVER_URL } from '../helpers/database';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { spawnGateway, type GatewayProcess } from '../helpers/process';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const testWithPostgres = SERVER_URL ? test : test.skip;

testWithPostgres(
  'when a mutation arrives with a traceparent, then each protocol (http/protobuf, http/json) exports its span tree, the upstream gets the propagated traceparent, and the log line and the audit entries carry the trace id',
  async () => {
    const receiver = await startOtlpReceiver();
    const simulator = createSimulator({ developerKey: 'dk-trace', seed: true });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const env = (protocol: string) => ({
      NODE_ENV: 'test',
      PORT: '0',
      KLOUDLESS_API_URL: upstream,
      KLOUDLESS_DEVELOPER_KEY: 'dk-trace',
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      JWT_AUDIENCE: TEST_AUDIENCE,
      DATABASE_URL: db.url!,
      AUDIT_HMAC_KEY: 'tracing-audit-key-of-32-bytes-or-more!!',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      // Export within 100 ms instead of 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const gateways: GatewayProcess[] = [spawnGateway(env('http/protobuf')), spawnGateway(env('http/json'))];
    try {
      const urls = await Promise.all(gateways.map((g) => g.ready));
      const token = signToken({ sub: 'tracer', roles: ['admin'] });
      for (const [i, url] of urls.entries()) {
        const traceId = randomBytes(16).toString('hex');
        const callerSpan = randomBytes(8).toString('hex');
        const response = await fetch(`${url}/v1/applications/${APP}/webhooks`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
            traceparent: `00-${traceId}-${callerSpan}-01`,
          },
          body: JSON.stringify({ url: `https://hooks.example.com/traced/${i}` }),
        });
        expect(response.status).toBe(201);

        const ofTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
        for (let n = 0; n < 50 && ofTrace().length < 6; n++) await new Promise((r) => setTimeout(r, 100));
        const spans = ofTrace();
        const named = (name: string) => spans.find((s) => s.name === name) as ReceivedSpan;
        const server = named('POST webhooks.create');
        expect(server).toMatchObject({ parentSpanId: callerSpan, kind: 2 });
        for (const child of ['gateway.authenticate', 'gateway.decision', 'gateway.forward'])
          expect(named(child)).toMatchObject({ parentSpanId: server.spanId });
        // The forward is the one forward-and-audit path: the request entry, then the upstream call, under it.
        expect(named('gateway.audit.append')).toMatchObject({ parentSpanId: named('gateway.forward').spanId });
        const call = named('gateway.upstream');
        expect(call).toMatchObject({ parentSpanId: named('gateway.forward').spanId, kind: 3 });

        // The upstream received the trace, with the gateway's upstream span as its parent.
        const forwarded = simulator.requests.filter((r) => r.method === 'POST').at(-1)!;
        expect(forwarded.headers.traceparent).toBe(`00-${traceId}-${call.spanId}-01`);
        expect(gateways[i]!.stdout()).toMatch(new RegExp(`"trace_id":"${traceId}".*"msg":"request completed"`));

        // The audit trail names the trace: on the event as /v1/audit/events shows it, and in each entry's details.
        const auditor = { Authorization: `Bearer ${signToken({ sub: 'reviewer', roles: ['auditor'] })}` };
        const { events } = (await (
          await fetch(`${url}/v1/audit/events?operation=webhooks.create&order=desc&limit=1`, { headers: auditor })
        ).json()) as { events: { sequence: string; trace_id?: string }[] };
        expect(events[0]!.trace_id).toBe(traceId);
        const detail = (await (
          await fetch(`${url}/v1/audit/events/${events[0]!.sequence}`, { headers: auditor })
        ).json()) as {
          entries: { kind: string; details: { trace_id?: string } }[];
        };
        expect(detail.entries.map((e) => [e.kind, e.details.trace_id])).toEqual([
          ['request', traceId],
          ['response', traceId],
        ]);
      }
      expect(receiver.contentTypes).toEqual(new Set(['application/x-protobuf', 'application/json']));
    } finally {
      for (const g of gateways) g.child.kill('SIGTERM');
      await Promise.all(gateways.map((g) => g.exited));
      await Promise.all([receiver.close(), simulator.close()]);
      await db.drop();
    }
  },
  60_000,
);
