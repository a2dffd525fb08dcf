import { OUTCOMES } from '../audit/entry';
import { PERMISSIONS } from '../policy/permissions';
import type { JsonSchema } from './input-schemas';
import { answer, AUTHENTICATED, ref, refusals, type Responses } from './responses';
import { LOG_OPERATIONS, LOG_SCHEMAS } from './audit-log-paths';

/**
 * The gateway's own endpoints (src/routes/*, src/openapi/routes.ts), written by hand: their inputs are parsed
 * inside the route files, not declared in the catalogue. The test calls every one of them against the gateway.
 */
export interface GatewayOperation {
  path: string;
  method: 'get' | 'post';
  operation: JsonSchema;
}

const AUDIT_READ = [...AUTHENTICATED, 'forbidden'] as const;
const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });
const query = (name: string, description: string, schema: JsonSchema, extra: JsonSchema = {}): JsonSchema => ({ name, in: 'query', required: false, description, schema, ...extra });
const json = (schema: JsonSchema) => ({ 'application/json': schema });

export const GATEWAY_SCHEMAS: Record<string, JsonSchema> = {
  ...LOG_SCHEMAS,
  Me: {
    type: 'object',
    required: ['sub', 'name', 'email', 'roles', 'permissions', 'operations'],
    properties: {
      sub: { type: 'string' },
      name: { type: ['string', 'null'] },
      email: { type: ['string', 'null'] },
      roles: { type: 'array', items: { type: 'string' } },
      permissions: { type: 'array', items: { type: 'string' }, description: 'Everything the caller’s roles grant, wildcards expanded.' },
      operations: {
        type: 'array',
        description: 'The Management operations the caller may call, to show only the buttons that work.',
        items: { type: 'object', required: ['id', 'method', 'path'], properties: { id: { type: 'string' }, method: { type: 'string' }, path: { type: 'string' } } },
      },
    },
  },
  PolicyExplanation: {
    type: 'object',
    required: ['roles', 'operation', 'allowed', 'reason', 'granted_by', 'unknown_roles'],
    properties: {
      roles: { type: 'array', items: { type: 'string' }, description: 'The roles asked about.' },
      operation: { type: 'string' },
      allowed: { type: 'boolean' },
      reason: { type: 'string', enum: ['role_grants_permission', 'no_role_grants_permission', 'no_roles_in_token'], description: 'The policy’s stable reason id, as logged and audited.' },
      granted_by: { type: ['string', 'null'], description: 'The role that grants it, when allowed.' },
      unknown_roles: { type: 'array', items: { type: 'string' }, description: 'Roles the policy does not define (a typo, or a role from another system).' },
    },
  },
  AuditEventPage: {
    type: 'object',
    required: ['events', 'next_cursor'],
    properties: { events: { type: 'array', items: ref('schemas', 'AuditEvent') }, next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last.' } },
  },
  AuditEventDetail: {
    type: 'object',
    required: ['event', 'entries'],
    properties: { event: ref('schemas', 'AuditEvent'), entries: { type: 'array', items: ref('schemas', 'AuditEntry') } },
  },
  KeyLookup: {
    type: 'object',
    required: ['fingerprint', 'entries'],
    properties: { fingerprint: str('`hmac-sha256:` and 64 hex digits.'), entries: { type: 'array', items: ref('schemas', 'AuditEntry'), description: 'At most 1000.' } },
  },
  Verification: {
    oneOf: [
      {
        type: 'object',
        required: ['ok', 'entries', 'last_sequence', 'last_hash'],
        properties: {
          ok: { const: true },
          entries: { type: 'integer' },
          last_sequence: { type: ['string', 'null'] },
          last_hash: { type: ['string', 'null'] },
          checkpoint: { type: 'object', properties: { sequence: { type: 'string' }, verified: { const: true } } },
        },
      },
      {
        type: 'object',
        required: ['ok', 'entries', 'first_bad_sequence', 'problem', 'message'],
        properties: {
          ok: { const: false },
          entries: { type: 'integer' },
          first_bad_sequence: { type: ['string', 'null'] },
          problem: { type: 'string', enum: ['modified', 'inserted', 'missing', 'unknown_key', 'truncated', 'checkpoint_mismatch', 'bad_checkpoint'] },
          message: { type: 'string' },
        },
      },
    ],
  },
  Checkpoint: {
    type: 'object',
    required: ['sequence', 'hash', 'time', 'key_id', 'signature', 'token', 'public_key'],
    properties: {
      sequence: { type: 'string' },
      hash: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      key_id: { type: 'string' },
      signature: str('Ed25519, base64url.'),
      token: str('The whole checkpoint in one string, for `GET /v1/audit/verify?checkpoint=`.'),
      public_key: str('PEM: anyone can check the signature offline.'),
    },
  },
  Readiness: {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: { type: 'string', enum: ['ready', 'draining', 'not_ready'] },
      checks: {
        type: 'array',
        items: { type: 'object', required: ['name', 'ok', 'critical'], properties: { name: { type: 'string' }, ok: { type: 'boolean' }, critical: { type: 'boolean' } } },
      },
    },
  },
};

const audit = (operationId: string, summary: string, description: string, responses: Responses, extra: JsonSchema = {}): JsonSchema => ({
  operationId,
  summary,
  description: `${description}\n\nNeeds the \`audit.read\` permission. Each use is itself recorded in the trail, refused attempts too.`,
  tags: ['Audit'],
  'x-permission': 'audit.read',
  ...extra,
  responses,
});

const EVENT_FILTERS: JsonSchema[] = [
  query('actor', 'The actor’s `sub`.', { type: 'string', minLength: 1, maxLength: 256 }, { example: 'user-admin' }),
  query('operation', 'Operation id, or a review action such as `audit.query`.', { type: 'string', minLength: 1, maxLength: 64 }, { example: 'applications.delete' }),
  query('application_id', 'Target application.', { type: 'string', minLength: 1, maxLength: 128 }, { example: 'wSPk9y5D7p5o87k0ACGKxR' }),
  query('decision', 'Policy decision.', { type: 'string', enum: ['allowed', 'denied'] }),
  query('outcome', 'How the call ended.', { type: 'string', enum: [...OUTCOMES, 'pending'] }),
  query('request_id', 'The request id.', { type: 'string', minLength: 1, maxLength: 128 }, { example: 'req-0001-abcd' }),
  query('since', 'Events at or after this time (RFC 3339 with an offset).', { type: 'string', format: 'date-time' }, { example: '2020-01-01T00:00:00Z' }),
  query('until', 'Events before this time.', { type: 'string', format: 'date-time' }, { example: '2100-01-01T00:00:00Z' }),
  query('key_fingerprint', 'Events mentioning this secret, as `POST /v1/audit/lookup-key` returns its fingerprint.', { type: 'string', pattern: '^hmac-sha256:[0-9a-f]{64}$' }, {
    example: `hmac-sha256:${'0'.repeat(64)}`,
  }),
  query('kind', 'Kind of event.', { type: 'string', enum: ['mutation', 'decision', 'access', 'system'] }),
  query('order', 'Oldest or newest first.', { type: 'string', enum: ['asc', 'desc'], default: 'desc' }),
  query('limit', 'Events per page.', { type: 'integer', minimum: 1, maximum: 1000, default: 50 }),
  query('cursor', 'From `next_cursor` of the previous page (with the same `order`).', { type: 'string', maxLength: 200 }),
  query('format', 'Instead of `Accept`: `csv` or `ndjson` export everything that matches, streamed.', { type: 'string', enum: ['json', 'csv', 'ndjson'] }),
];

const unauthenticated = (operationId: string, tag: string, summary: string, description: string, responses: Responses): JsonSchema => ({
  operationId,
  summary,
  description,
  tags: [tag],
  security: [],
  responses,
});

export const GATEWAY_OPERATIONS: readonly GatewayOperation[] = [
  ...LOG_OPERATIONS,
  {
    path: '/v1/me',
    method: 'get',
    operation: {
      operationId: 'me',
      summary: 'Who am I, and what may I do',
      description: 'The caller’s identity, roles, permissions and the operations they may call, so a front-end shows only the buttons that work.',
      tags: ['Identity'],
      responses: { ...answer(200, 'The caller.', json(ref('schemas', 'Me'))), ...refusals(AUTHENTICATED) },
    },
  },
  {
    path: '/v1/policy/explain',
    method: 'get',
    operation: {
      operationId: 'policy.explain',
      summary: 'Explain a policy decision',
      description: 'Would these roles be allowed this operation, and why. For any signed-in caller: it shows the policy, not anyone’s data.',
      tags: ['Policy'],
      parameters: [
        { ...query('role', 'One role, or several separated by commas.', { type: 'string', minLength: 1, maxLength: 512 }, { example: 'viewer,editor' }), required: true },
        { ...query('operation', 'An operation id or gateway permission.', { type: 'string', enum: [...PERMISSIONS] }, { example: 'applications.delete' }), required: true },
      ],
      responses: { ...answer(200, 'The decision.', json(ref('schemas', 'PolicyExplanation'))), ...refusals([...AUTHENTICATED, 'validation_failed']) },
    },
  },
  {
    path: '/v1/audit/events',
    method: 'get',
    operation: audit(
      'audit.events.list',
      'Search audit events',
      'Requests joined with their outcomes, newest first by default, in pages. With `Accept: text/csv` or `application/x-ndjson` (or `format`), everything that matches is exported as one streamed download.',
      {
        ...answer(200, 'A page of events, or the export.', {
          'application/json': ref('schemas', 'AuditEventPage'),
          'text/csv': { type: 'string', description: 'A header row, then one row per event.' },
          'application/x-ndjson': { type: 'string', description: 'One AuditEvent per line.' },
        }),
        ...refusals([...AUDIT_READ, 'validation_failed']),
      },
      { parameters: EVENT_FILTERS },
    ),
  },
  {
    path: '/v1/audit/events/{sequence}',
    method: 'get',
    operation: audit(
      'audit.events.get',
      'One audit event with its raw entries',
      'The event that begins at this sequence number (or contains it), with every raw entry and its hash.',
      { ...answer(200, 'The event.', json(ref('schemas', 'AuditEventDetail'))), ...refusals([...AUDIT_READ, 'validation_failed', 'not_found']) },
      { parameters: [{ name: 'sequence', in: 'path', required: true, description: 'A sequence number.', schema: { type: 'string', pattern: '^[1-9]\\d{0,18}$' }, example: '1' }] },
    ),
  },
  {
    path: '/v1/audit/verify',
    method: 'get',
    operation: audit(
      'audit.verify',
      'Verify the audit chain',
      'Verifies the entries the Merkle tree took in since the last verification (HMAC link and leaf hash of each), that the stored tree still extends the last verified one and the latest signed checkpoint; `full=true` re-walks everything. Reports the first broken sequence number and why. With a legacy JSON checkpoint `token`, walks the whole HMAC chain as before (truncation of the newest entries is detected too).',
      { ...answer(200, 'The verdict (`ok: false` is still a 200: the check ran).', json(ref('schemas', 'Verification'))), ...refusals([...AUDIT_READ, 'validation_failed']) },
      { parameters: [query('checkpoint', 'A legacy JSON checkpoint `token`.', { type: 'string', maxLength: 2048 }), query('full', 'Re-walk every entry, not only the new ones.', { type: 'string', enum: ['true', 'false'] })] },
    ),
  },
  {
    path: '/v1/audit/checkpoint',
    method: 'get',
    operation: audit('audit.checkpoint', 'The latest signed checkpoint', 'The latest C2SP checkpoint of the audit log (a signed note with witness cosignatures; issue 15, docs/audit-format.md), signed afresh if the tree grew over AUDIT_CHECKPOINT_INTERVAL_S. Keep it elsewhere. Deprecated: with `Accept: application/json` the JSON `{sequence, hash, time}` checkpoint of before.', {
      ...answer(200, 'The signed checkpoint.', { 'text/plain': { type: 'string', description: 'A C2SP signed note.' }, ...json(ref('schemas', 'Checkpoint')) }),
      ...refusals(AUDIT_READ),
    }),
  },
  {
    path: '/v1/audit/lookup-key',
    method: 'post',
    operation: audit(
      'audit.lookup_key',
      'Find where a leaked key appears',
      'Fingerprints the key with the audit key and lists every entry that mentions it. A POST, so the key never sits in a URL.',
      { ...answer(200, 'The fingerprint and the entries.', json(ref('schemas', 'KeyLookup'))), ...refusals([...AUDIT_READ, 'validation_failed', 'invalid_json', 'payload_too_large']) },
      {
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['key'], additionalProperties: false, properties: { key: { type: 'string', minLength: 1, maxLength: 512, description: 'The secret to look for.' } } },
              example: { key: '80OdF5hXzkNqEs9DHRkiA1EXz1pbF4' },
            },
          },
        },
      },
    ),
  },
  {
    path: '/healthz',
    method: 'get',
    operation: unauthenticated('healthz', 'Operations', 'Liveness', 'The process is alive. Not logged.', answer(200, 'Alive.', json({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }))),
  },
  {
    path: '/readyz',
    method: 'get',
    operation: unauthenticated('readyz', 'Operations', 'Readiness', 'Every critical dependency answered and the gateway is not draining. Why a check failed goes to the log, not to this unauthenticated caller.', {
      ...answer(200, 'Ready.', json(ref('schemas', 'Readiness'))),
      ...answer(503, 'Not ready, or draining.', json(ref('schemas', 'Readiness'))),
    }),
  },
  {
    path: '/openapi.json',
    method: 'get',
    operation: unauthenticated('openapi', 'Reference', 'This document', 'The OpenAPI 3.1 document, generated from the operations catalogue.', answer(200, 'The document.', json({ type: 'object' }))),
  },
  {
    path: '/docs',
    method: 'get',
    operation: unauthenticated('docs', 'Reference', 'This reference, for people', 'A readable reference page; its assets are served by the gateway itself.', answer(200, 'The page.', { 'text/html': { type: 'string' } })),
  },
];
