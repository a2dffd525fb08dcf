import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * OpenTelemetry traces (issue 25), off unless an exporter is configured by the standard OTEL_* variables
 * (src/tracing/start.ts). Off, every helper here is one boolean test: reads cost what they did. The request's
 * spans are made in src/http/trace-requests.ts; here, what a domain layer may call.
 */
let enabled = false;
const TRACER = 'kloudless-gateway';

export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

export function tracingEnabled(): boolean {
  return enabled;
}

export const tracer = () => trace.getTracer(TRACER);

/** `work` as a child span of the ambient one (the upstream call inside `gateway.forward`). */
export async function withSpan<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!enabled) return work();
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT }, async (span) => {
    try {
      return await work();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string }).code ?? 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The W3C `traceparent` (and `tracestate`) of the ambient span, for a request the gateway sends on. */
export function traceHeaders(): Record<string, string> {
  if (!enabled) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
