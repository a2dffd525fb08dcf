import { ENTRY_KINDS, OUTCOMES } from '../audit/trail/entry';
import { ERROR_CODES } from '../errors/codes';

/**
 * Response schemas written by hand: the Management API's objects from the reference
 * (shared/reference/kloudless-management-api.txt, "Applications", "API Keys", "WebHooks"), the gateway's own
 * answers from the code that builds them (src/audit/review/present.ts, src/audit/review/chain-verify.ts, src/routes/*). Response
 * objects stay open (no `additionalProperties: false`): the upstream may add attributes, and they pass through.
 */
type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const text = (description: string): Schema => ({ type: 'string', description });
const nullable = (type: string, description: string): Schema => ({ type: [type, 'null'], description });
const timestamp = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
const object = (required: string[], properties: Record<string, Schema>, description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  required,
  properties,
});

/** "The response contains: total, count, page, objects" (reference, every list operation). */
const page = (item: string, what: string): Schema =>
  object(
    ['total', 'count', 'page', 'objects'],
    {
      total: { type: 'integer', minimum: 0, description: 'Total number of objects' },
      count: { type: 'integer', minimum: 0, description: 'Number of objects on this page' },
      page: { type: 'integer', minimum: 1, description: 'Page number' },
      objects: { type: 'array', items: ref(item), description: `List of ${what} objects` },
    },
    `A page of ${what} objects.`,
  );

const MANAGEMENT_OBJECTS: Record<string, Schema> = {
  Application: object(
    ['id', 'name', 'active', 'created', 'modified'],
    {
      id: text('Unique identifier for this application. Also known as the App ID.'),
      name: text('The application’s name. Will be displayed to a user connecting an account to the application.'),
      description: text('A description of the application.'),
      logo_url: text('A URL at which an image containing the logo for the application is available, or "".'),
      active: {
        type: 'boolean',
        description:
          'Whether the application is active or not. Deleted applications do not show up and do not count as inactive.',
      },
      implicit_grant_enabled: {
        type: 'boolean',
        description: 'If true, allows the OAuth 2.0 Implicit Grant flow for this application. Defaults to false.',
      },
      recent_enabled: {
        type: 'boolean',
        description: 'If true, collects data on recent activity in accounts. Defaults to false.',
      },
      events_enabled: { type: 'boolean', description: 'If true, collects event data for accounts. Defaults to false.' },
      created: timestamp('When the application object was created.'),
      modified: timestamp('When the application object was modified.'),
    },
    'A Kloudless application.',
  ),
  ApiKey: object(
    ['key', 'created', 'modified'],
    {
      key: text(
        'The API key, unique across all applications. Shown in full only to roles granted `apikeys.reveal`; others see `****` and its last 4 characters.',
      ),
      created: timestamp('When the API key object was created.'),
      modified: timestamp('When the API key object was modified.'),
    },
    'An API key of an application. A credential: responses carrying one are never cached.',
  ),
  Webhook: object(
    ['id', 'url', 'created', 'modified'],
    {
      id: text('The webhook id, unique across all applications.'),
      url: text('The webhook URL.'),
      created: timestamp('When the webhook object was created.'),
      modified: timestamp('When the webhook object was modified.'),
    },
    'A webhook of an application.',
  ),
  ApplicationPage: page('Application', 'application'),
  ApiKeyPage: page('ApiKey', 'API key'),
  WebhookPage: page('Webhook', 'webhook'),
  UpstreamError: object(
    ['error_code', 'message'],
    {
      status_code: { type: 'integer' },
      error_code: text('The Management API’s error code, e.g. `not_found`.'),
      message: { type: 'string' },
      id: text('The Management API’s request id.'),
    },
    'An error of the Management API itself, passed through unchanged (told apart from the gateway’s by the missing `error` envelope).',
  ),
};

const ErrorEnvelope: Schema = object(
  ['error'],
  {
    error: object(['code', 'message', 'request_id', 'details'], {
      code: {
        type: 'string',
        enum: Object.keys(ERROR_CODES),
        description: 'A stable code; the README lists what each means.',
      },
      message: { type: 'string', description: 'For people; may change. Program against `code`.' },
      request_id: text('The request id, also in the `X-Request-Id` header and the gateway’s log.'),
      details: {
        type: 'array',
        description:
          'Every problem found (validation), or why (`reason`: which budget, which token check, which upstream failure).',
        items: {
          type: 'object',
          properties: {
            location: { type: 'string' },
            field: { type: 'string' },
            code: { type: 'string' },
            message: { type: 'string' },
            reason: { type: 'string' },
          },
        },
      },
    }),
  },
  'Every refusal by the gateway itself.',
);

const actor = object(['sub', 'name', 'email', 'roles', 'jti', 'issuer'], {
  sub: nullable('string', 'The token’s `sub`.'),
  name: nullable('string', 'The token’s `name` claim.'),
  email: nullable('string', 'The token’s `email` claim.'),
  roles: { type: 'array', items: { type: 'string' }, description: 'Roles at decision time.' },
  jti: nullable('string', 'The token’s `jti`.'),
  issuer: nullable('string', 'The token’s `iss`.'),
});
const client = object(['ip', 'user_agent'], {
  ip: nullable('string', 'Client address.'),
  user_agent: nullable('string', 'User-Agent header.'),
});
const target = object(['application_id', 'webhook_id', 'apikey_fingerprint'], {
  application_id: nullable('string', 'Application concerned.'),
  webhook_id: nullable('string', 'Webhook concerned.'),
  apikey_fingerprint: nullable('string', 'API key concerned, as its HMAC fingerprint (never in clear).'),
});
const sequence = text('Sequence number in the chain (a 64-bit integer, as a string).');
const outcome = {
  type: ['string', 'null'],
  enum: [...OUTCOMES, 'pending', null],
  description: 'How the call ended; `pending` while only the request entry exists.',
};
const common = {
  request_id: {
    type: 'string',
    description: 'The gateway’s own id of the request (unique; the response’s `X-Request-Id`).',
  },
  client_request_id: nullable('string', 'The `X-Request-Id` the caller sent, if well-formed: not unique, not checked.'),
  actor,
  client,
  operation: nullable(
    'string',
    'Operation id, the review action (`audit.query`, …), or the approval action (`approval.request`, `approval.approve`, …).',
  ),
  method: nullable('string', 'HTTP method.'),
  path: nullable('string', 'Request path (API key values masked).'),
  target,
  decision: { type: ['string', 'null'], enum: ['allowed', 'denied', null] },
  reason: nullable('string', 'Why the policy decided as it did.'),
  upstream_status: nullable('integer', 'Status the Management API answered with.'),
  error_code: nullable('string', 'The gateway’s error code, when it refused.'),
  latency_ms: nullable('number', 'Time to the upstream’s answer.'),
  team: nullable(
    'string',
    'The application’s owning team at the time (an ownership change: the team it came from; its response entry names the new one); null when none.',
  ),
  approval_id: {
    type: ['string', 'null'],
    format: 'uuid',
    description:
      'The approval request (two-person rule) it belongs to: its lifecycle entries and its execution; null when none.',
  },
};

const AUDIT_OBJECTS: Record<string, Schema> = {
  AuditEvent: object(
    [...Object.keys(common), 'sequence', 'event_id', 'time', 'completed_at', 'kind', 'outcome', 'entry_sequences'],
    {
      sequence,
      event_id: { type: 'string', format: 'uuid' },
      time: timestamp('When the event began (UTC, microseconds).'),
      completed_at: { type: ['string', 'null'], format: 'date-time', description: 'When its outcome was recorded.' },
      kind: { type: 'string', enum: ['mutation', 'decision', 'access', 'system', 'approval'] },
      ...common,
      outcome,
      entry_sequences: { type: 'array', items: { type: 'string' }, description: 'The raw entries this event joins.' },
    },
    'A request joined with its outcome.',
  ),
  AuditEntry: object(
    [
      ...Object.keys(common),
      'sequence',
      'time',
      'kind',
      'event_id',
      'request_body',
      'outcome',
      'details',
      'fingerprints',
      'key_id',
      'hash',
    ],
    {
      sequence,
      time: timestamp('When the entry was written (UTC, microseconds).'),
      kind: { type: 'string', enum: [...ENTRY_KINDS] },
      event_id: { type: 'string', format: 'uuid' },
      ...common,
      request_body: { description: 'The request body, secrets replaced by fingerprints.' },
      outcome: { ...outcome, enum: [...OUTCOMES, null] },
      details: { description: 'What else the entry records (validation problems, review parameters, …).' },
      fingerprints: {
        type: 'array',
        items: { type: 'string' },
        description: 'Every secret fingerprint the entry mentions.',
      },
      key_id: text('Which audit key hashed it.'),
      hash: text('HMAC-SHA256 chain hash, hex.'),
    },
    'One raw, hash-chained entry of the audit trail.',
  ),
};

export const SCHEMAS: Record<string, Schema> = { ...MANAGEMENT_OBJECTS, ErrorEnvelope, ...AUDIT_OBJECTS };
