import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of the trail leaving the gateway (issue 25): streaming to sinks and the background full verification. */
export interface AuditWatchMetrics {
  /** Entries in the trail a sink has not acknowledged yet (alert rules refer to this name). */
  sinkLag: Gauge<'sink'>;
  sinkFailures: Counter<'sink' | 'failure'>;
  sinkDelivered: Counter<'sink'>;
  /** 1 if the last background full verification found the chain intact, 0 if not. */
  fullVerificationOk: Gauge;
  fullVerificationTimestamp: Gauge;
  fullVerificationEntries: Gauge;
}

export function createAuditWatchMetrics(registry: Registry): AuditWatchMetrics {
  const r = { registers: [registry] };
  return {
    sinkLag: new Gauge({
      ...r,
      name: 'gateway_audit_sink_lag_entries',
      // Every worker reads the same cursor: summing them over workers (the default) would multiply the lag.
      aggregator: 'max',
      help: 'Audit entries a sink of AUDIT_SINKS has not acknowledged yet (the newest sequence minus its cursor), by sink URL (credentials masked). Every instance reports it; take the max by sink.',
      labelNames: ['sink'],
    }),
    sinkFailures: new Counter({
      ...r,
      name: 'gateway_audit_sink_failures_total',
      help: 'Batches a sink did not acknowledge (sent again after a backoff), by sink and failure (refused, timeout, unreachable, rejected_status, write_failed, connection_lost).',
      labelNames: ['sink', 'failure'],
    }),
    sinkDelivered: new Counter({
      ...r,
      name: 'gateway_audit_sink_delivered_entries_total',
      help: 'Audit entries a sink acknowledged, by sink (an entry sent again after an unacknowledged batch counts again).',
      labelNames: ['sink'],
    }),
    fullVerificationOk: new Gauge({
      ...r,
      name: 'gateway_audit_full_verification_ok',
      aggregator: 'min',
      help: 'Whether the last background full verification of the audit chain (AUDIT_FULL_VERIFY_INTERVAL_S, by any instance) found it intact: 1, or 0 after a tamper. An alert fires on 0.',
    }),
    fullVerificationTimestamp: new Gauge({
      ...r,
      name: 'gateway_audit_full_verification_timestamp_seconds',
      aggregator: 'max',
      help: 'When the last background full verification of the audit chain ended (Unix time).',
    }),
    fullVerificationEntries: new Gauge({
      ...r,
      name: 'gateway_audit_full_verification_entries',
      aggregator: 'max',
      help: 'Entries the last background full verification walked (up to the first bad one, if any).',
    }),
  };
}
