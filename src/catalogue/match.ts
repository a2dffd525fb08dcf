import type { Operation } from './operations';

export const API_PREFIX = '/v1';

/** The path sent upstream: below the configured base, always with the trailing slash (see README, "Reference slips"). */
export function upstreamPath(operation: Operation, params: Record<string, string>): string {
  return `${operation.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '')}/`;
}
