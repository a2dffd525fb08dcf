import { badRequest, isAbsoluteHttpUrl, notFound } from './http';
import { paginate, type ApplicationInput, type ApplicationPatch, type SimulatorStore } from './store';

export interface RouteContext {
  store: SimulatorStore;
  /** Path parameters, percent-decoded, in order. */
  params: string[];
  query: Record<string, string>;
  body: unknown;
}

export interface RouteResult {
  status: number;
  /** Undefined: no body (204). */
  body?: unknown;
}

type Handler = (ctx: RouteContext) => RouteResult;

interface Route {
  pattern: RegExp;
  handlers: Partial<Record<string, Handler>>;
}

export type Resolution = { handler: Handler; params: string[] } | { allowed: string[] };

type FieldKind = 'name' | 'text' | 'logo' | 'boolean' | 'source' | 'url';

const APPLICATION_FIELDS = {
  description: 'text',
  logo_url: 'logo',
  implicit_grant_enabled: 'boolean',
  recent_enabled: 'boolean',
  events_enabled: 'boolean',
} as const;
const CREATE_FIELDS: Record<string, FieldKind> = { name: 'name', source: 'source', ...APPLICATION_FIELDS };
const UPDATE_FIELDS: Record<string, FieldKind> = { name: 'name', active: 'boolean', ...APPLICATION_FIELDS };
const WEBHOOK_FIELDS: Record<string, FieldKind> = { url: 'url' };
const NO_FIELDS: Record<string, FieldKind> = {};

const NAME_MAX_LENGTH = 255;
const PAGE_SIZE_DEFAULT = 10;
const PAGE_SIZE_MAX = 1000;

// Booleans as Django REST framework reads them from JSON: true/false, and the reference's True/False.
const BOOLEAN_TEXT = new Map([
  ['true', true],
  ['True', true],
  ['false', false],
  ['False', false],
]);

const created = (body: unknown): RouteResult => ({ status: 201, body });
const ok = (body: unknown): RouteResult => ({ status: 200, body });
const noContent = (deleted: boolean, what: string): RouteResult => {
  if (!deleted) throw notFound(`${what} not found.`);
  return { status: 204 };
};

function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw notFound(`${what} not found.`);
  return value;
}

const APP = String.raw`^/v1/applications/([^/]+)`;

const ROUTES: Route[] = [
  {
    pattern: /^\/v1\/applications\/?$/,
    handlers: {
      GET: ({ store, query }) => ok(paginateQuery(store.listApplications(activeFilter(query)), query)),
      POST: ({ store, body }) => created(store.createApplication(applicationInput(store, body))),
    },
  },
  {
    pattern: new RegExp(`${APP}/?$`),
    handlers: {
      GET: ({ store, params: [id = ''] }) => ok(found(store.getApplication(id), 'Application')),
      PATCH: ({ store, params: [id = ''], body }) =>
        ok(found(store.updateApplication(id, applicationPatch(body)), 'Application')),
      DELETE: ({ store, params: [id = ''] }) => noContent(store.deleteApplication(id), 'Application'),
    },
  },
  {
    pattern: new RegExp(`${APP}/apikeys/?$`),
    handlers: {
      GET: ({ store, params: [id = ''], query }) =>
        ok(paginateQuery(found(store.listApiKeys(id), 'Application'), query)),
      POST: ({ store, params: [id = ''], body }) => {
        readFields(body, NO_FIELDS);
        return created(found(store.createApiKey(id), 'Application'));
      },
    },
  },
  {
    pattern: new RegExp(`${APP}/apikeys/([^/]+)/?$`),
    handlers: { DELETE: ({ store, params: [id = '', key = ''] }) => noContent(store.deleteApiKey(id, key), 'API Key') },
  },
  {
    pattern: new RegExp(`${APP}/webhooks/?$`),
    handlers: {
      GET: ({ store, params: [id = ''], query }) =>
        ok(paginateQuery(found(store.listWebhooks(id), 'Application'), query)),
      POST: ({ store, params: [id = ''], body }) => {
        const { url } = readFields(body, WEBHOOK_FIELDS, ['url']);
        return created(found(store.createWebhook(id, url as string), 'Application'));
      },
    },
  },
  {
    pattern: new RegExp(`${APP}/webhooks/([^/]+)/?$`),
    handlers: {
      GET: ({ store, params: [id = '', webhookId = ''] }) => ok(found(store.getWebhook(id, webhookId), 'WebHook')),
      DELETE: ({ store, params: [id = '', webhookId = ''] }) =>
        noContent(store.deleteWebhook(id, webhookId), 'WebHook'),
    },
  },
];

/** Undefined when no route has this path. */
export function resolveRoute(method: string, path: string): Resolution | undefined {
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const params = decodeParams(match.slice(1));
    if (!params) return undefined;
    const handler = Object.hasOwn(route.handlers, method) ? route.handlers[method] : undefined;
    return handler ? { handler, params } : { allowed: Object.keys(route.handlers) };
  }
  return undefined;
}

function decodeParams(raw: (string | undefined)[]): string[] | undefined {
  try {
    return raw.map((p) => decodeURIComponent(p ?? ''));
  } catch {
    return undefined;
  }
}

function paginateQuery<T>(items: T[], query: Record<string, string>) {
  return paginate(
    items,
    wholeNumber(query, 'page', 1, Number.MAX_SAFE_INTEGER),
    wholeNumber(query, 'page_size', PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX),
  );
}

function wholeNumber(query: Record<string, string>, name: string, fallback: number, max: number): number {
  const raw = query[name];
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= max)) throw badRequest(`${name} must be a whole number between 1 and ${max}.`);
  return value;
}

function activeFilter(query: Record<string, string>): boolean | undefined {
  const raw = query.active;
  if (raw === undefined) return undefined;
  const value = BOOLEAN_TEXT.get(raw);
  if (value === undefined) throw badRequest('active must be one of True, False.');
  return value;
}

function applicationInput(store: SimulatorStore, body: unknown): ApplicationInput {
  const input = readFields(body, CREATE_FIELDS, ['name']) as ApplicationInput;
  if (input.source !== undefined && !store.getApplication(input.source))
    throw badRequest(`source: no application ${input.source}.`);
  return input;
}

function applicationPatch(body: unknown): ApplicationPatch {
  if (isObject(body) && 'source' in body) throw badRequest('The source parameter can not be used in an update.');
  return readFields(body, UPDATE_FIELDS) as ApplicationPatch;
}

/** An empty body reads as `{}`; fields outside `spec` are refused rather than ignored, to catch typos. */
function readFields(body: unknown, spec: Record<string, FieldKind>, required: string[] = []): Record<string, unknown> {
  if (body !== undefined && !isObject(body)) throw badRequest('The request body must be a JSON object.');
  const fields = body ?? {};
  const unknown = Object.keys(fields).filter((k) => !Object.hasOwn(spec, k));
  if (unknown.length > 0) throw badRequest(`Unknown field(s): ${unknown.join(', ')}.`);
  const missing = required.filter((k) => fields[k] === undefined);
  if (missing.length > 0) throw badRequest(`${missing.join(', ')}: This field is required.`);
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, readField(k, spec[k] as FieldKind, v)]));
}

function readField(name: string, kind: FieldKind, value: unknown): unknown {
  const fail = (why: string): never => {
    throw badRequest(`${name}: ${why}`);
  };
  if (kind === 'boolean') {
    const parsed = typeof value === 'boolean' ? value : typeof value === 'string' ? BOOLEAN_TEXT.get(value) : undefined;
    return parsed ?? fail('Must be a valid boolean.');
  }
  if (typeof value !== 'string') return fail('Not a valid string.');
  if (kind === 'name') {
    // DRF's CharField trims surrounding whitespace before checking for blank.
    const name = value.trim();
    if (name === '') fail('This field may not be blank.');
    if (name.length > NAME_MAX_LENGTH) fail(`Ensure this field has no more than ${NAME_MAX_LENGTH} characters.`);
    return name;
  }
  if (kind === 'url' && !isAbsoluteHttpUrl(value)) fail('Enter a valid absolute http(s) URL.');
  if (kind === 'logo' && value !== '' && !isAbsoluteHttpUrl(value))
    fail('Enter a valid absolute http(s) URL or an empty string.');
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
