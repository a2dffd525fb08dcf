import { OUTCOMES } from '../audit/entry';
import { ID_PATTERN } from '../catalogue/schemas';
import { TEAM_PATTERN } from '../ownership/teams';
import { PERMISSIONS } from '../policy/permissions';
import type { JsonSchema } from './input-schemas';
import { answer, AUTHENTICATED, envelopeWith, ref, refusals, type Responses } from './responses';
import { LOG_OPERATIONS, LOG_SCHEMAS } from './audit-log-paths';

/**
 * The gateway's own endpoints (src/routes/*, src/openapi/routes.ts), written by hand: their inputs are parsed
 * inside the route files, not declared in the catalogue. The test calls every one of them against the gateway.
 */
export interface GatewayOperation {
  path: string;
  method: 'get' | 'post' | 'put';
  operation: JsonSchema;
}

const AUDIT_READ = [...AUTHENTICATED, 'forbidden'] as const;
const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });
const query = (name: string, description: string, schema: JsonSchema, extra: JsonSchema = {}): JsonSchema => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
  ...extra,
});
const json = (schema: JsonSchema) => ({ 'application/json': schema });
const teamName = (description: string): JsonSchema => ({ type: 'string', pattern: TEAM_PATTERN.source, description });
const nullableTeam = (description: string): JsonSchema => ({
  type: ['string', 'null'],
  pattern: TEAM_PATTERN.source,
  description,
});
const applicationId: JsonSchema = {
  type: 'string',
  pattern: ID_PATTERN.source,
  description: 'The application’s id (App ID).',
};
const ownershipRecord = {
  application_id: applicationId,
  team: nullableTeam('The owning team; null when no team owns it (only `any`-scoped roles reach it then).'),
  assigned_at: { type: ['string', 'null'], format: 'date-time', description: 'When the current owner was given it.' },
  assigned_by_sequence: {
    type: ['string', 'null'],
    description: 'The audit entry that made the change (its sequence number).',
  },
};

export const GATEWAY_SCHEMAS: Record<string, JsonSchema> = {
  ...LOG_SCHEMAS,
  Me: {
    type: 'object',
    required: ['sub', 'name', 'email', 'roles', 'teams', 'permissions', 'scopes', 'operations'],
    properties: {
      sub: { type: 'string' },
      name: { type: ['string', 'null'] },
      email: { type: ['string', 'null'] },
      roles: { type: 'array', items: { type: 'string' } },
      teams: {
        type: 'array',
        items: teamName('A team.'),
        description: 'The caller’s teams, from the token’s teams claim (`JWT_TEAMS_CLAIM`).',
      },
      permissions: {
        type: 'array',
        items: { type: 'string' },
        description: 'Everything the caller’s roles grant, wildcards expanded.',
      },
      scopes: {
        type: 'object',
        additionalProperties: { type: 'string', enum: ['team', 'any'] },
        description:
          'Per permission, which applications it reaches: `team` (those owned by one of the caller’s teams) or `any`.',
      },
      operations: {
        type: 'array',
        description: 'The Management operations the caller may call, to show only the buttons that work.',
        items: {
          type: 'object',
          required: ['id', 'method', 'path'],
          properties: { id: { type: 'string' }, method: { type: 'string' }, path: { type: 'string' } },
        },
      },
    },
  },
  PolicyExplanation: {
    type: 'object',
    required: ['roles', 'operation', 'allowed', 'reason', 'granted_by', 'scope', 'reaches', 'unknown_roles'],
    properties: {
      roles: { type: 'array', items: { type: 'string' }, description: 'The roles asked about.' },
      operation: { type: 'string' },
      allowed: { type: 'boolean' },
      reason: {
        type: 'string',
        enum: ['role_grants_permission', 'no_role_grants_permission', 'no_roles_in_token', 'not_owner', 'unowned'],
        description:
          'The stable reason id, as logged and audited; `not_owner` and `unowned` only when an application was named.',
      },
      granted_by: { type: ['string', 'null'], description: 'The role that grants it, when allowed.' },
      scope: {
        type: ['string', 'null'],
        enum: ['team', 'any', null],
        description: 'Which applications the grant reaches, when allowed.',
      },
      reaches: { type: ['string', 'null'], description: 'The scope in words.' },
      unknown_roles: {
        type: 'array',
        items: { type: 'string' },
        description: 'Roles the policy does not define (a typo, or a role from another system).',
      },
      teams: {
        type: 'array',
        items: { type: 'string' },
        description: 'The teams asked about (only when an application was named).',
      },
      application: {
        type: 'object',
        required: ['id', 'owner'],
        properties: { id: applicationId, owner: nullableTeam('Its owning team, or null.') },
        description: 'The application asked about, with its owner (only when one was named).',
      },
    },
  },
  Ownership: { type: 'object', required: Object.keys(ownershipRecord), properties: ownershipRecord },
  OwnershipChange: {
    type: 'object',
    required: [...Object.keys(ownershipRecord), 'previous_team'],
    properties: {
      ...ownershipRecord,
      previous_team: nullableTeam('The owner before the change; null if it had none.'),
    },
  },
  UnownedPage: {
    type: 'object',
    required: ['total', 'count', 'page', 'objects'],
    properties: {
      total: { type: 'integer', description: 'Applications upstream without an owner.' },
      count: { type: 'integer' },
      page: { type: 'integer' },
      objects: { type: 'array', items: ref('schemas', 'Application') },
    },
  },
  OwnershipImport: {
    type: 'object',
    required: ['assigned', 'transferred', 'unchanged', 'failed', 'results'],
    properties: {
      assigned: { type: 'integer', description: 'Pairs that gave an unowned application its first owner.' },
      transferred: { type: 'integer', description: 'Pairs that moved an application to another team.' },
      unchanged: { type: 'integer', description: 'Pairs already true (an import can be run again).' },
      failed: {
        type: 'integer',
        description: 'Changes the audit trail could not record, so not made (the answer is then a 503).',
      },
      results: {
        type: 'array',
        items: {
          type: 'object',
          required: ['application_id', 'team', 'previous_team', 'status'],
          properties: {
            application_id: applicationId,
            team: teamName('The team named.'),
            previous_team: nullableTeam('The owner before.'),
            status: { type: 'string', enum: ['assigned', 'transferred', 'unchanged', 'failed'] },
            error: { type: 'string', description: 'Why a change failed (an error code).' },
          },
        },
      },
    },
  },
  AuditEventPage: {
    type: 'object',
    required: ['events', 'next_cursor'],
    properties: {
      events: { type: 'array', items: ref('schemas', 'AuditEvent') },
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last.' },
    },
  },
  AuditEventDetail: {
    type: 'object',
    required: ['event', 'entries'],
    properties: {
      event: ref('schemas', 'AuditEvent'),
      entries: { type: 'array', items: ref('schemas', 'AuditEntry') },
    },
  },
  KeyLookup: {
    type: 'object',
    required: ['fingerprint', 'entries'],
    properties: {
      fingerprint: str('`hmac-sha256:` and 64 hex digits.'),
      entries: { type: 'array', items: ref('schemas', 'AuditEntry'), description: 'At most 1000.' },
    },
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
          problem: {
            type: 'string',
            enum: [
              'modified',
              'inserted',
              'missing',
              'unknown_key',
              'truncated',
              'checkpoint_mismatch',
              'bad_checkpoint',
            ],
          },
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
        items: {
          type: 'object',
          required: ['name', 'ok', 'critical'],
          properties: { name: { type: 'string' }, ok: { type: 'boolean' }, critical: { type: 'boolean' } },
        },
      },
    },
  },
};

const audit = (
  operationId: string,
  summary: string,
  description: string,
  responses: Responses,
  extra: JsonSchema = {},
): JsonSchema => ({
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
  query(
    'operation',
    'Operation id, or a review action such as `audit.query`.',
    { type: 'string', minLength: 1, maxLength: 64 },
    { example: 'applications.delete' },
  ),
  query(
    'application_id',
    'Target application.',
    { type: 'string', minLength: 1, maxLength: 128 },
    { example: 'wSPk9y5D7p5o87k0ACGKxR' },
  ),
  query('decision', 'Policy decision.', { type: 'string', enum: ['allowed', 'denied'] }),
  query('outcome', 'How the call ended.', { type: 'string', enum: [...OUTCOMES, 'pending'] }),
  query(
    'request_id',
    'The gateway’s request id (the `X-Request-Id` it answered with; not the one a client sent).',
    { type: 'string', minLength: 1, maxLength: 128 },
    { example: 'req-0001-abcd' },
  ),
  query(
    'since',
    'Events at or after this time (RFC 3339 with an offset).',
    { type: 'string', format: 'date-time' },
    { example: '2020-01-01T00:00:00Z' },
  ),
  query(
    'until',
    'Events before this time.',
    { type: 'string', format: 'date-time' },
    { example: '2100-01-01T00:00:00Z' },
  ),
  query(
    'key_fingerprint',
    'Events mentioning this secret, as `POST /v1/audit/lookup-key` returns its fingerprint.',
    { type: 'string', pattern: '^hmac-sha256:[0-9a-f]{64}$' },
    {
      example: `hmac-sha256:${'0'.repeat(64)}`,
    },
  ),
  query(
    'team',
    'The application’s owning team when the event happened (a transfer is found under the team it came from).',
    teamName('A team.'),
    { example: 'demo' },
  ),
  query(
    'kind',
    'Kind of event (`approval`: the two-person rule’s requests, approvals, denials, cancellations, expiries).',
    { type: 'string', enum: ['mutation', 'decision', 'access', 'system', 'approval'] },
  ),
  query(
    'approval_id',
    'Every event of one approval request: its lifecycle and its execution.',
    { type: 'string', format: 'uuid' },
    { example: '7b0c2f4e-1d3a-4c5b-9e8f-0a1b2c3d4e5f' },
  ),
  query('order', 'Oldest or newest first.', { type: 'string', enum: ['asc', 'desc'], default: 'desc' }),
  query('limit', 'Events per page.', { type: 'integer', minimum: 1, maximum: 1000, default: 50 }),
  query('cursor', 'From `next_cursor` of the previous page (with the same `order`).', {
    type: 'string',
    maxLength: 200,
  }),
  query('format', 'Instead of `Accept`: `csv` or `ndjson` export everything that matches, streamed.', {
    type: 'string',
    enum: ['json', 'csv', 'ndjson'],
  }),
];

const unauthenticated = (
  operationId: string,
  tag: string,
  summary: string,
  description: string,
  responses: Responses,
): JsonSchema => ({
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
      description:
        'The caller’s identity, roles, permissions and the operations they may call, so a front-end shows only the buttons that work.',
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
      description:
        'Would these roles be allowed this operation, and why. For any signed-in caller: it shows the policy, not anyone’s data.',
      tags: ['Policy'],
      parameters: [
        {
          ...query(
            'role',
            'One role, or several separated by commas.',
            { type: 'string', minLength: 1, maxLength: 512 },
            { example: 'viewer,editor' },
          ),
          required: true,
        },
        {
          ...query(
            'operation',
            'An operation id or gateway permission.',
            { type: 'string', enum: [...PERMISSIONS] },
            { example: 'applications.delete' },
          ),
          required: true,
        },
        query(
          'teams',
          'The teams of the caller asked about, separated by commas (with `application_id`).',
          { type: 'string', maxLength: 4096 },
          { example: 'payments,search' },
        ),
        query(
          'application_id',
          'Explain the decision on this application too: reads its owner, so needs `ownership.manage`.',
          applicationId,
          { example: 'wSPk9y5D7p5o87k0ACGKxR' },
        ),
      ],
      responses: {
        ...answer(200, 'The decision.', json(ref('schemas', 'PolicyExplanation'))),
        ...refusals([...AUTHENTICATED, 'forbidden', 'validation_failed', 'ownership_unavailable']),
      },
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
      {
        ...answer(200, 'The event.', json(ref('schemas', 'AuditEventDetail'))),
        ...refusals([...AUDIT_READ, 'validation_failed', 'not_found']),
      },
      {
        parameters: [
          {
            name: 'sequence',
            in: 'path',
            required: true,
            description: 'A sequence number.',
            schema: { type: 'string', pattern: '^[1-9]\\d{0,18}$' },
            example: '1',
          },
        ],
      },
    ),
  },
  {
    path: '/v1/audit/verify',
    method: 'get',
    operation: audit(
      'audit.verify',
      'Verify the audit chain',
      'Verifies the entries the Merkle tree took in since the last verification (HMAC link and leaf hash of each), that the stored tree still extends the last verified one and the latest signed checkpoint; `full=true` re-walks everything. Reports the first broken sequence number and why. With a legacy JSON checkpoint `token`, walks the whole HMAC chain as before (truncation of the newest entries is detected too).',
      {
        ...answer(
          200,
          'The verdict (`ok: false` is still a 200: the check ran).',
          json(ref('schemas', 'Verification')),
        ),
        ...refusals([...AUDIT_READ, 'validation_failed']),
      },
      {
        parameters: [
          query('checkpoint', 'A legacy JSON checkpoint `token`.', { type: 'string', maxLength: 2048 }),
          query('full', 'Re-walk every entry, not only the new ones.', { type: 'string', enum: ['true', 'false'] }),
        ],
      },
    ),
  },
  {
    path: '/v1/audit/checkpoint',
    method: 'get',
    operation: audit(
      'audit.checkpoint',
      'The latest signed checkpoint',
      'The latest C2SP checkpoint of the audit log (a signed note with witness cosignatures; issue 15, docs/audit-format.md), signed afresh if the tree grew over AUDIT_CHECKPOINT_INTERVAL_S. Keep it elsewhere. Deprecated: with `Accept: application/json` the JSON `{sequence, hash, time}` checkpoint of before.',
      {
        ...answer(200, 'The signed checkpoint.', {
          'text/plain': { type: 'string', description: 'A C2SP signed note.' },
          ...json(ref('schemas', 'Checkpoint')),
        }),
        ...refusals(AUDIT_READ),
      },
    ),
  },
  {
    path: '/v1/audit/lookup-key',
    method: 'post',
    operation: audit(
      'audit.lookup_key',
      'Find where a leaked key appears',
      'Fingerprints the key with the audit key and lists every entry that mentions it. A POST, so the key never sits in a URL.',
      {
        ...answer(200, 'The fingerprint and the entries.', json(ref('schemas', 'KeyLookup'))),
        ...refusals([...AUDIT_READ, 'validation_failed', 'invalid_json', 'payload_too_large']),
      },
      {
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['key'],
                additionalProperties: false,
                properties: {
                  key: { type: 'string', minLength: 1, maxLength: 512, description: 'The secret to look for.' },
                },
              },
              example: { key: '80OdF5hXzkNqEs9DHRkiA1EXz1pbF4' },
            },
          },
        },
      },
    ),
  },
  ...ownershipOperations(),
  {
    path: '/healthz',
    method: 'get',
    operation: unauthenticated(
      'healthz',
      'Operations',
      'Liveness',
      'The process is alive. Not logged.',
      answer(200, 'Alive.', json({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } })),
    ),
  },
  {
    path: '/readyz',
    method: 'get',
    operation: unauthenticated(
      'readyz',
      'Operations',
      'Readiness',
      'Every critical dependency answered and the gateway is not draining. Why a check failed goes to the log, not to this unauthenticated caller.',
      {
        ...answer(200, 'Ready.', json(ref('schemas', 'Readiness'))),
        ...answer(503, 'Not ready, or draining.', json(ref('schemas', 'Readiness'))),
      },
    ),
  },
  {
    path: '/openapi.json',
    method: 'get',
    operation: unauthenticated(
      'openapi',
      'Reference',
      'This document',
      'The OpenAPI 3.1 document, generated from the operations catalogue.',
      answer(200, 'The document.', json({ type: 'object' })),
    ),
  },
  {
    path: '/docs',
    method: 'get',
    operation: unauthenticated(
      'docs',
      'Reference',
      'This reference, for people',
      'A readable reference page; its assets are served by the gateway itself.',
      answer(200, 'The page.', { 'text/html': { type: 'string' } }),
    ),
  },
];

function ownershipOperations(): GatewayOperation[] {
  const manage = (
    operationId: string,
    summary: string,
    description: string,
    responses: Responses,
    extra: JsonSchema = {},
  ): JsonSchema => ({
    operationId,
    summary,
    description: `${description}\n\nNeeds the \`ownership.manage\` permission (built-in: \`admin\`). Refusals are recorded in the audit trail.`,
    tags: ['Ownership'],
    'x-permission': 'ownership.manage',
    ...extra,
    responses,
  });
  const READ = [...AUTHENTICATED, 'forbidden', 'validation_failed', 'ownership_unavailable'] as const;
  const WRITE = [...READ, 'invalid_json', 'payload_too_large', 'audit_unavailable'] as const;
  const UPSTREAM = ['upstream_unavailable', 'upstream_bad_response', 'upstream_timeout'] as const;
  const idParameter = {
    name: 'application_id',
    in: 'path',
    required: true,
    description: 'The application’s id (App ID).',
    schema: applicationId,
    example: 'wSPk9y5D7p5o87k0ACGKxR',
  };
  const body = (schema: JsonSchema, example: unknown) => ({
    requestBody: { required: true, content: { 'application/json': { schema, example } } },
  });
  return [
    {
      path: '/v1/ownership/applications/{application_id}',
      method: 'get',
      operation: manage(
        'ownership.get',
        'Who owns an application',
        'The owning team as the gateway records it (null when none: an application created before the gateway, or deleted).',
        {
          ...answer(200, 'The owner.', json(ref('schemas', 'Ownership'))),
          ...refusals(READ),
        },
        { parameters: [idParameter] },
      ),
    },
    {
      path: '/v1/ownership/applications/{application_id}',
      method: 'put',
      operation: manage(
        'ownership.assign',
        'Assign or transfer an application',
        'Gives the application (which must exist upstream) to a team. An audited mutation: recorded before it takes effect, and not made if the trail cannot record it. A team that owns nothing yet is refused unless `allow_new_team` (a typo would give an application to a team nobody is in); the current owner is a `409 conflict`.',
        {
          ...answer(200, 'The new owner, and the previous one.', json(ref('schemas', 'OwnershipChange'))),
          ...refusals([...WRITE, 'not_found', 'conflict', ...UPSTREAM]),
        },
        {
          parameters: [idParameter],
          ...body(
            {
              type: 'object',
              required: ['team'],
              additionalProperties: false,
              properties: {
                team: teamName('The new owner.'),
                allow_new_team: {
                  type: 'boolean',
                  default: false,
                  description: 'Allow a team that owns no application yet.',
                },
              },
            },
            { team: 'payments', allow_new_team: true },
          ),
        },
      ),
    },
    {
      path: '/v1/ownership/unowned',
      method: 'get',
      operation: manage(
        'ownership.unowned',
        'Applications without an owner',
        'Applications that exist upstream but no team owns (those created before the gateway), in pages, in the upstream’s order.',
        {
          ...answer(200, 'A page of applications.', json(ref('schemas', 'UnownedPage'))),
          ...refusals([...READ, ...UPSTREAM]),
        },
        {
          parameters: [
            query('page', 'Page number.', { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 }),
            query('page_size', 'Applications per page.', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
          ],
        },
      ),
    },
    {
      path: '/v1/ownership/import',
      method: 'post',
      operation: manage(
        'ownership.import',
        'Import owners in bulk',
        'Up to 1,000 `application_id,team` pairs a call (`npm run ownership:import -- file.csv` sends a file of any length in such calls). All or nothing: an application named twice, one that does not exist upstream, or a team that owns nothing yet (without `allow_new_teams`) refuses the whole call, every problem listed in `details` by pair (`pairs.N`). Each change is an audited mutation; pairs already true are `unchanged`.',
        {
          ...answer(200, 'What each pair did.', json(ref('schemas', 'OwnershipImport'))),
          ...refusals(
            WRITE.filter(
              (code) =>
                code !== 'audit_unavailable' && code !== 'ownership_unavailable' && code !== 'rate_limit_unavailable',
            ),
          ),
          ...refusals(UPSTREAM),
          ...answer(
            503,
            'Ownership or the audit trail was unavailable: either the envelope (nothing changed), or the results with the pairs that `failed` (the others were applied; run the import again).',
            {
              'application/json': {
                anyOf: [
                  envelopeWith(['rate_limit_unavailable', 'ownership_unavailable', 'audit_unavailable']),
                  ref('schemas', 'OwnershipImport'),
                ],
              },
            },
          ),
        },
        body(
          {
            type: 'object',
            required: ['pairs'],
            additionalProperties: false,
            properties: {
              pairs: {
                type: 'array',
                minItems: 1,
                maxItems: 1000,
                items: {
                  type: 'object',
                  required: ['application_id', 'team'],
                  additionalProperties: false,
                  properties: { application_id: applicationId, team: teamName('Its owner.') },
                },
              },
              allow_new_teams: {
                type: 'boolean',
                default: false,
                description: 'Allow teams that own no application yet.',
              },
            },
          },
          { pairs: [{ application_id: 'wSPk9y5D7p5o87k0ACGKxR', team: 'demo' }] },
        ),
      ),
    },
  ];
}
