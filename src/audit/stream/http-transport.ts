import { Agent, request } from 'undici';
import type { SinkSpec } from './sinks';
import { networkFailure, SinkError, type Outgoing, type Transport } from './transport';

/**
 * NDJSON batches POSTed to an https:// (or loopback http://) receiver; any 2xx acknowledges the whole batch. With
 * `envelope=splunk-hec` each line is `{"event": …, "time": …, "sourcetype": "kloudless:audit"}`, as Splunk's HTTP
 * Event Collector takes it, and the URL's password is sent as `Authorization: Splunk <token>`; otherwise a user and
 * password in the URL are sent as Basic authentication. TLS trusts the system's CAs and NODE_EXTRA_CA_CERTS.
 */
export function httpTransport(spec: SinkSpec): Transport {
  const target = new URL(spec.url.toString());
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  target.username = '';
  target.password = '';
  for (const option of ['format', 'envelope']) target.searchParams.delete(option);
  const authorization =
    spec.envelope === 'splunk-hec' && password
      ? `Splunk ${password}`
      : user || password
        ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
        : undefined;
  const agent = new Agent({ connections: 1, keepAliveTimeout: 10_000 });
  return {
    async send(batch, deadline) {
      const lines = batch.map((o) => (spec.envelope === 'splunk-hec' ? splunkEnvelope(o) : o.line));
      const body = lines.join('\n') + '\n';
      const timeout = Math.max(1, deadline - Date.now());
      let status: number;
      try {
        const response = await request(target, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/x-ndjson',
            ...(authorization ? { authorization } : {}),
          },
          body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
          signal: AbortSignal.timeout(timeout),
        });
        status = response.statusCode;
        await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      } catch (err) {
        const failure = networkFailure(err);
        throw new SinkError(failure, `the receiver could not be reached (${failure})`, { cause: err });
      }
      if (status < 200 || status > 299) throw new SinkError('rejected_status', `the receiver answered ${status}`);
    },
    close: () => agent.close(),
  };
}

/** The formatted line is already JSON: spliced in, not parsed again. */
function splunkEnvelope(o: Outgoing): string {
  return `{"time":${Date.parse(o.at) / 1000},"sourcetype":"kloudless:audit","event":${o.line}}`;
}
