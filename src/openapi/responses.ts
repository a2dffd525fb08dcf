import { ERROR_CODES, type ErrorCode } from '../errors/codes';
import type { JsonSchema } from './input-schemas';

/** Response objects of the document. Refusals are derived from the error table, so a changed status or message shows. */
export type Responses = Record<string, JsonSchema>;

export const ref = (kind: 'schemas' | 'headers' | 'parameters', name: string): JsonSchema => ({
  $ref: `#/components/${kind}/${name}`,
});

export const HEADERS: Record<string, JsonSchema> = {
  'X-Request-Id': {
    description:
      'The request id: the caller’s own `X-Request-Id` when well-formed (8–128 of `A-Za-z0-9._:-`), otherwise a new UUID. Logged and forwarded upstream.',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } },
  'WWW-Authenticate': {
    description: '`Bearer`, with the reason when a token was refused.',
    schema: { type: 'string' },
  },
  Location: {
    description: 'The approval request that now holds the call: `/v1/approvals/{id}`.',
    schema: { type: 'string', pattern: '^/v1/approvals/[0-9a-f-]{36}$' },
  },
};

const STATUS_HEADERS: Record<number, string[]> = {
  202: ['Location'],
  401: ['WWW-Authenticate'],
  429: ['Retry-After'],
  503: ['Retry-After'],
};

const headers = (status: number): JsonSchema =>
  Object.fromEntries(['X-Request-Id', ...(STATUS_HEADERS[status] ?? [])].map((name) => [name, ref('headers', name)]));

/** A response the route answers with, one schema per media type (none for 204). */
export function answer(status: number, description: string, content?: Record<string, JsonSchema>): Responses {
  const body = content
    ? { content: Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }])) }
    : {};
  return { [String(status)]: { description, headers: headers(status), ...body } };
}

/**
 * The gateway's refusals for these codes, one response per status naming the codes it may carry. Each is kept
 * once in `components.responses` (named after its codes) and referenced. With `upstream`, a 400 may also be the
 * Management API's own error, passed through.
 */
export function refusals(codes: readonly ErrorCode[], options: { upstream?: boolean } = {}): Responses {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  const responses: Responses = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const group = byStatus.get(status)!;
    const upstream = options.upstream && status === 400;
    const name = group.map(pascal).join('Or') + (upstream ? 'OrUpstreamError' : '');
    const schema = upstream ? { anyOf: [envelopeWith(group), ref('schemas', 'UpstreamError')] } : envelopeWith(group);
    REFUSALS.set(name, {
      description:
        group.map((code) => `\`${code}\`: ${ERROR_CODES[code].message}`).join(' ') +
        (upstream ? ' Or the Management API’s own error, passed through.' : ''),
      headers: headers(status),
      content: { 'application/json': { schema, example: envelopeExample(group[0]!) } },
    });
    responses[String(status)] = { $ref: `#/components/responses/${name}` };
  }
  return responses;
}

/** Every refusal response built so far, by name; the document takes the ones its operations reference. */
const REFUSALS = new Map<string, JsonSchema>();

export function refusalComponents(paths: unknown): Record<string, JsonSchema> {
  const used = new Set(
    [...JSON.stringify(paths).matchAll(/"#\/components\/responses\/(\w+)"/g)].map(([, name]) => name),
  );
  return Object.fromEntries(
    [...REFUSALS.entries()].filter(([name]) => used.has(name)).sort(([a], [b]) => a.localeCompare(b)),
  );
}

const pascal = (code: string) => code.replace(/(^|_)([a-z])/g, (_m, _sep, letter: string) => letter.toUpperCase());

/** The error envelope, its `code` narrowed to what this response can carry. */
export function envelopeWith(codes: readonly ErrorCode[]): JsonSchema {
  return {
    allOf: [
      ref('schemas', 'ErrorEnvelope'),
      {
        type: 'object',
        properties: { error: { type: 'object', properties: { code: { type: 'string', enum: [...codes] } } } },
      },
    ],
  };
}

function envelopeExample(code: ErrorCode): JsonSchema {
  return {
    error: {
      code,
      message: ERROR_CODES[code].message,
      request_id: '5f0c6a52-2b7e-4c1d-9f3a-8e4b1d2c3a40',
      details: [],
    },
  };
}

/** Every route under `/v1`: failed-authentication limit, authentication, per-person limit. */
export const AUTHENTICATED: readonly ErrorCode[] = [
  'unauthenticated',
  'invalid_token',
  'rate_limited',
  'rate_limit_unavailable',
];
