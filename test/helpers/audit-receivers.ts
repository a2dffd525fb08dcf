import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';

/** A self-signed certificate for 127.0.0.1, made with openssl: the receivers' key, and the CA file for the gateway. */
export function loopbackCertificate(): { key: string; cert: string; caFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sink-tls-'));
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  return {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    caFile: join(dir, 'cert.pem'),
  };
}

/** What a receiver got: each event's sequence in arrival order, the events, and how senders overlapped. */
export interface Received {
  seqs: number[];
  events: Record<string, unknown>[];
  /** Most batches (HTTP requests) in progress at once. */
  maxConcurrent: number;
  /** Data arriving on one connection within `overlapMs` of data on another (two senders at once). */
  overlaps: number;
}

interface Receiver {
  port: number;
  received: Received;
  /** Stops listening and drops every connection: the receiver is down (senders get ECONNREFUSED). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

function lifecycle(server: HttpsServer | TlsServer, sockets: Set<Socket>, port: number) {
  const listen = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const down = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return { listen, down };
}

/** An HTTPS receiver of NDJSON batches; each request answers 200 after `delayMs`, so overlapping senders would show. */
export async function httpsReceiver(tls: { key: string; cert: string }, delayMs = 5): Promise<Receiver> {
  const received: Received = { seqs: [], events: [], maxConcurrent: 0, overlaps: 0 };
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    inFlight++;
    received.maxConcurrent = Math.max(received.maxConcurrent, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        inFlight--;
        if (req.headers['content-type'] !== 'application/x-ndjson') {
          res.writeHead(415).end();
          return;
        }
        for (const line of Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean)) {
          const event = JSON.parse(line) as Record<string, unknown>;
          received.events.push(event);
          received.seqs.push(Number(event.sequence));
        }
        res.writeHead(200).end();
      }, delayMs);
    });
    req.on('error', () => inFlight--);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const { listen, down } = lifecycle(server, sockets, port);
  return { port, received, down, up: listen, close: down };
}

/** A syslog-over-TLS receiver (RFC 5425 octet counting) of RFC 5424 messages whose SD carries the sequence. */
export async function syslogTlsReceiver(tls: { key: string; cert: string }, overlapMs = 50): Promise<Receiver> {
  const received: Received = { seqs: [], events: [], maxConcurrent: 0, overlaps: 0 };
  const sockets = new Set<Socket>();
  let last: { socket: Socket; at: number } | undefined;
  const server = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const now = Date.now();
      if (last && last.socket !== socket && now - last.at < overlapMs) received.overlaps++;
      last = { socket, at: now };
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) break;
        const length = Number(buffer.subarray(0, space).toString('ascii'));
        if (buffer.length < space + 1 + length) break;
        const message = buffer.subarray(space + 1, space + 1 + length).toString('utf8');
        buffer = buffer.subarray(space + 1 + length);
        const parsed = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[audit@32473 seq="(\d+)"\] (.*)$/s.exec(message);
        if (!parsed) throw new Error(`not an RFC 5424 message of the gateway: ${message.slice(0, 120)}`);
        received.seqs.push(Number(parsed[7]));
        received.events.push({
          pri: Number(parsed[1]),
          timestamp: parsed[2],
          msgid: parsed[6],
          ...JSON.parse(parsed[8]!),
        });
      }
    });
    socket.on('error', () => undefined);
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const { listen, down } = lifecycle(server, sockets, port);
  return { port, received, down, up: listen, close: down };
}

/**
 * Holds a sink's arrivals to the contract: every sequence from 1 to `head`, in order, and any sequence seen twice
 * only as part of one batch sent again (a restart at most `batchSize` back, continuing one by one from there).
 */
export function deliveryProblems(seqs: number[], head: number, batchSize: number): string[] {
  const problems: string[] = [];
  let next = 1;
  for (const [i, s] of seqs.entries()) {
    if (s === next) next++;
    else if (s < next && next - s <= batchSize) next = s + 1;
    else problems.push(`arrival ${i}: sequence ${s} where ${next} (or a resend of at most ${batchSize}) was due`);
  }
  const seen = new Set(seqs);
  for (let s = 1; s <= head; s++) if (!seen.has(s)) problems.push(`sequence ${s} never arrived`);
  return problems.slice(0, 20);
}
