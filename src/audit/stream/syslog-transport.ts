import { hostname } from 'node:os';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { SinkSpec } from './sinks';
import { networkFailure, SinkError, type Outgoing, type Transport } from './transport';

/** facility 13 (log audit) × 8 + severity 6 (informational); a `system` entry is a notice (5). */
const PRI_INFO = 13 * 8 + 6;
const PRI_NOTICE = 13 * 8 + 5;
/** RFC 5612's enterprise number for documentation: the SD-ID carrying the sequence (the leaf hash is in the JSON). */
const SD_ID = 'audit@32473';
/**
 * Syslog over TCP has no acknowledgement (RFC 5425 §4.3): bytes the kernel took may still be lost if the receiver
 * goes down. A batch counts as delivered once written and the connection is still up this long after: a receiver
 * that closed or reset the connection meanwhile (one that stopped) gets the batch again.
 */
export const SYSLOG_ACK_WINDOW_MS = 150;

/** RFC 5424 messages with RFC 5425 octet-counting framing, over TLS (`syslog+tls`) or plain TCP (`syslog+tcp`). */
export function syslogTransport(spec: SinkSpec, ackWindowMs = SYSLOG_ACK_WINDOW_MS): Transport {
  const host = spec.url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(spec.url.port);
  const me = syslogName(hostname(), 255);
  let socket: Socket | undefined;
  let lost: SinkError | undefined;

  const open = (deadline: number) =>
    new Promise<Socket>((resolve, reject) => {
      const options = { host, port, timeout: Math.max(1, deadline - Date.now()) };
      const s =
        spec.transport === 'syslog+tls'
          ? tlsConnect({ ...options, ...(isIP(host) ? {} : { servername: host }) })
          : tcpConnect(options);
      const ready = spec.transport === 'syslog+tls' ? 'secureConnect' : 'connect';
      const fail = (err: unknown) => {
        s.destroy();
        reject(new SinkError(networkFailure(err), `syslog receiver ${host}:${port} not reachable`, { cause: err }));
      };
      s.once('error', fail);
      s.once('timeout', () => fail(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
      s.once(ready, () => {
        s.off('error', fail);
        s.setTimeout(0);
        s.setKeepAlive(true, 10_000);
        lost = undefined;
        const drop = (err?: unknown) => {
          lost ??= new SinkError('connection_lost', 'the syslog receiver closed the connection', { cause: err });
          if (socket === s) socket = undefined;
          s.destroy();
        };
        s.on('error', drop);
        s.once('end', () => drop());
        s.once('close', () => drop());
        // Nothing is expected from the receiver: read and discard, so its bytes never fill a buffer.
        s.on('data', () => undefined);
        resolve(s);
      });
    });

  return {
    async send(batch, deadline) {
      socket ??= await open(deadline);
      const s = socket;
      const frames = Buffer.concat(batch.map((o) => frame(message(o, me))));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new SinkError('timeout', 'the syslog receiver did not take the batch in time')),
          Math.max(1, deadline - Date.now()),
        );
        s.write(frames, (err) => {
          clearTimeout(timer);
          if (err) reject(new SinkError(networkFailure(err), 'writing to the syslog receiver failed', { cause: err }));
          else resolve();
        });
      }).catch((err: unknown) => {
        s.destroy();
        if (socket === s) socket = undefined;
        throw err;
      });
      await new Promise((resolve) => setTimeout(resolve, Math.min(ackWindowMs, Math.max(0, deadline - Date.now()))));
      if (lost || s.destroyed) throw lost ?? new SinkError('connection_lost', 'the syslog connection was lost');
    },
    async close() {
      socket?.end();
      socket?.destroy();
      socket = undefined;
    },
  };
}

/** `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG` (RFC 5424 §6), the JSON event as MSG. */
export function message(o: Outgoing, host: string): string {
  const pri = o.kind === 'system' ? PRI_NOTICE : PRI_INFO;
  const sd = `[${SD_ID} seq="${o.seq}"]`;
  return `<${pri}>1 ${o.at} ${host} kloudless-gateway ${process.pid} ${syslogName(o.kind, 32)} ${sd} ${o.line}`;
}

/** RFC 5425 §4.3 octet counting: the message's length in bytes, a space, the message. */
export function frame(msg: string): Buffer {
  const bytes = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
}

/** HOSTNAME and MSGID are PRINTUSASCII (33-126), bounded; anything else is `-`. */
function syslogName(value: string, max: number): string {
  const printable = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return printable || '-';
}
