import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PrismaClient } from '../../generated/prisma/client';
import type { StoredEntry } from '../trail/entry';
import type { AuditWatchMetrics } from '../../metrics/audit-watch';
import { createSinkCursors } from './cursor';
import { fileTransport } from './file-transport';
import { httpTransport } from './http-transport';
import { nativeEvent } from './native';
import { ocsfEvent } from './ocsf';
import type { SinkSpec } from './sinks';
import { startStreamer, type Streamer, type StreamerTiming } from './streamer';
import { syslogTransport } from './syslog-transport';
import type { Transport } from './transport';

export interface StreamingDeps {
  sinks: SinkSpec[];
  batchSize: number;
  prisma: PrismaClient;
  readChain(afterSeq: bigint, limit: number): Promise<StoredEntry[]>;
  recordSystem(action: string, details: Record<string, unknown>): Promise<unknown>;
  logger: Logger;
  metrics: AuditWatchMetrics;
  product: { name: string; version: string };
  timing?: Partial<StreamerTiming>;
}

const TRANSPORTS: Record<SinkSpec['transport'], (spec: SinkSpec) => Transport> = {
  https: httpTransport,
  http: httpTransport,
  'syslog+tls': (spec) => syslogTransport(spec),
  'syslog+tcp': (spec) => syslogTransport(spec),
  file: fileTransport,
};

/** One streamer per sink of AUDIT_SINKS; each sends only while it holds the sink's lease. */
export function startStreaming(deps: StreamingDeps): { stop(): Promise<void> } {
  const cursors = createSinkCursors(deps.prisma);
  const owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const streamers: Streamer[] = deps.sinks.map((spec) =>
    startStreamer({
      spec,
      transport: TRANSPORTS[spec.transport](spec),
      format:
        spec.format === 'ocsf'
          ? (e) => JSON.stringify(ocsfEvent(e, deps.product))
          : (e) => JSON.stringify(nativeEvent(e)),
      cursors,
      readChain: deps.readChain,
      recordSystem: deps.recordSystem,
      logger: deps.logger,
      metrics: deps.metrics,
      owner,
      batchSize: deps.batchSize,
      timing: deps.timing,
    }),
  );
  if (streamers.length > 0) deps.logger.info({ sinks: deps.sinks.map((s) => s.id), owner }, 'audit streaming started');
  return { stop: async () => void (await Promise.all(streamers.map((s) => s.stop()))) };
}
