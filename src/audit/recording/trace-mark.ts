/**
 * With tracing on (src/tracing/), an entry made for a request says which trace it belongs to: `details.trace_id`,
 * hashed and chained with the rest of the entry, so a reviewer can go from the trail to the trace and back. Without
 * tracing (or for entries of no request: approvals executing, system entries) the entry is unchanged.
 */
export function withTraceMark(traceId: string | null | undefined, details: unknown): unknown {
  if (!traceId) return details;
  return details && typeof details === 'object' && !Array.isArray(details)
    ? { ...(details as Record<string, unknown>), trace_id: traceId }
    : { trace_id: traceId };
}
