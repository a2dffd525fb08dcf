import { ACTIONS, SESSION_ACTIONS, type Action } from './actions';
import { API_PREFIX } from './match';

export type ActionMatch =
  | { kind: 'action'; action: Action; params: Record<string, string> }
  | { kind: 'wrong_method'; allowed: string[] }
  | { kind: 'none' };

interface CompiledRoute {
  action: Action;
  segments: { literal?: string; param?: string }[];
}

const ROUTES: CompiledRoute[] = ACTIONS.filter((a) => a.path.startsWith(`${API_PREFIX}/`)).map((action) => ({
  action,
  segments: action.path
    .slice(API_PREFIX.length)
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith(':') ? { param: part.slice(1) } : { literal: part })),
}));

/**
 * Resolves a raw (still percent-encoded) request path under /v1 to the catalogue's action: every way into the
 * gateway's API is a row of src/catalogue/actions.ts. One trailing slash is accepted, as the reference writes paths
 * both ways; literal segments compare exactly. Parameters are returned raw;
 * their well-formedness is each action's input check (a bad id answers 400, not 404).
 */
export function matchAction(method: string, rawPath: string): ActionMatch {
  if (!rawPath.startsWith(`${API_PREFIX}/`)) {
    const session = SESSION_ACTIONS.find((a) => a.method === method && a.path === rawPath);
    return session ? { kind: 'action', action: session, params: {} } : { kind: 'none' };
  }
  const trimmed = rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const parts = trimmed.slice(API_PREFIX.length + 1).split('/');
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const params = matchSegments(route, parts);
    if (!params) continue;
    if (route.action.method === method) return { kind: 'action', action: route.action, params };
    if (!allowed.includes(route.action.method)) allowed.push(route.action.method);
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
