import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Database } from '../../db/client';
import { createAuditWatchMetrics } from '../../metrics/audit-watch';
import type { AuditReader } from '../review/reader';
import type { AuditRecorder } from '../recording/recorder';
import { PRODUCT } from '../stream/product';
import type { SinkSpec } from '../stream/sinks';
import { startStreaming } from '../stream/streaming';
import type { VerifyWalks } from '../review/chain-walks';
import { scheduleFullVerification } from './full-verification';
import { createFullVerificationStore, type FullVerificationStore } from './store';

export interface AuditWatchDeps {
  /** AUDIT_SINKS (parsed), AUDIT_SINK_BATCH_SIZE and AUDIT_FULL_VERIFY_INTERVAL_S. */
  settings: { sinks: SinkSpec[]; sinkBatchSize: number; fullVerifyIntervalS: number };
  database: Database;
  reader: AuditReader;
  recorder: Pick<AuditRecorder, 'recordSystem'>;
  walks: VerifyWalks;
  logger: Logger;
  registry: Registry;
}

/** Issue 25's background work on the trail: streaming to AUDIT_SINKS and the periodic full verification. */
export function startAuditWatch(d: AuditWatchDeps): { fullVerification: FullVerificationStore; stop(): Promise<void> } {
  const metrics = createAuditWatchMetrics(d.registry);
  const recordSystem = (action: string, details: Record<string, unknown>) => d.recorder.recordSystem(action, details);
  const streaming = startStreaming({
    sinks: d.settings.sinks,
    batchSize: d.settings.sinkBatchSize,
    prisma: d.database.prisma,
    readChain: (after, limit) => d.reader.readChain(after, limit),
    recordSystem,
    logger: d.logger,
    metrics,
    product: PRODUCT,
  });
  const store = createFullVerificationStore(d.database.prisma);
  const verifier = scheduleFullVerification({
    store,
    walks: d.walks,
    recordSystem,
    logger: d.logger,
    metrics,
    intervalS: d.settings.fullVerifyIntervalS,
  });
  return {
    fullVerification: store,
    async stop() {
      await Promise.all([streaming.stop(), verifier.stop()]);
    },
  };
}
