import type { Logger } from 'pino';
import { setTracingEnabled } from './tracing';

/** What the standard OTEL_* variables say: an OTLP endpoint given, the SDK not disabled, traces not set to none. */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts @opentelemetry/sdk-node when tracing is wanted: the exporter, protocol (`http/protobuf` or `http/json`),
 * sampler, resource and propagators all come from the OTEL_* variables as the SDK reads them. Only traces: the
 * gateway's metrics stay Prometheus and its logs pino, whatever OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER default to.
 * Loaded only when wanted (the SDK is ~15 MB of modules).
 */
export async function startTracing(
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<{ shutdown(): Promise<void> } | undefined> {
  if (!tracingWanted(env)) return undefined;
  env.OTEL_METRICS_EXPORTER = 'none';
  env.OTEL_LOGS_EXPORTER = 'none';
  env.OTEL_SERVICE_NAME ??= 'kloudless-gateway';
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ instrumentations: [] });
  sdk.start();
  setTracingEnabled(true);
  logger.info(
    {
      endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT,
      protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
      sampler: env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
    },
    'tracing on (OpenTelemetry)',
  );
  return {
    async shutdown() {
      setTracingEnabled(false);
      await sdk.shutdown();
    },
  };
}
