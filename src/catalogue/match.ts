import { OPERATIONS, type Operation } from './operations';

export const API_PREFIX = '/v1';

export type Match =
  | { kind: 'operation'; operation: Operation; params: Record<string, string> }
  | { kind: 'wrong_method'; allowed: string[] }
  | { kind: 'none' };

interface CompiledRoute {
  operation: Operation;
  segments: { literal?: string; param?: string }[];
}

const ROUTES: CompiledRoute[] = OPERATIONS.map((operation) => ({
  operation,
  segments: operation.path
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith('{') ? { param: part.slice(1, -1) } : { literal: part })),
}));

/**
 * Resolves a raw (still percent-encoded) request path below /v1 to a catalogue operation.
 * One trailing slash is accepted, as the reference writes paths both ways. Parameters are
 * returned raw; their well-formedness is checked by validation so a bad id answers 400, not 404.
 */
export function matchOperation(method: string, rawPath: string): Match {
  if (!rawPath.startsWith(`${API_PREFIX}/`)) return { kind: 'none' };
  const trimmed = rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const parts = trimmed.slice(API_PREFIX.length + 1).split('/');
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const params = matchSegments(route, parts);
    if (!params) continue;
    if (route.operation.method === method) return { kind: 'operation', operation: route.operation, params };
    allowed.push(route.operation.method);
  }
  return allowed.length > 0 ? { kind: 'wrong_method', allowed } : { kind: 'none' };
}

function matchSegments(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  if (parts.length !== route.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of route.segments.entries()) {
    const part = parts[i] ?? '';
    if (part === '') return undefined;
    if (segment.literal !== undefined && segment.literal !== part) return undefined;
    if (segment.param !== undefined) params[segment.param] = part;
  }
  return params;
}

/** The path sent upstream: below the configured base, always with the trailing slash (see README, "Reference slips"). */
export function upstreamPath(operation: Operation, params: Record<string, string>): string {
  return `${operation.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '')}/`;
}
