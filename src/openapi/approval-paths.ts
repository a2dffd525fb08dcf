import { APPROVAL_STATES } from '../approvals/states';
import type { ErrorCode } from '../errors/codes';
import type { GatewayOperation } from './gateway-paths';
import type { JsonSchema } from './input-schemas';
import { answer, AUTHENTICATED, ref, refusals } from './responses';

/**
 * The two-person rule in the document (issue 14): `/v1/approvals` (src/routes/approvals.ts), the approval object
 * (src/approvals/present.ts), and what every mutating Management operation gains (src/pipeline/require-approval.ts):
 * a possible `202`, the `X-Approval-Reason` and `X-Approval-Bypass` headers, `409 approval_pending`.
 */
const MAX_REASON = 500;
const json = (schema: JsonSchema) => ({ 'application/json': schema });
const nullable = (type: string, description: string, extra: JsonSchema = {}): JsonSchema => ({
  type: [type, 'null'],
  description,
  ...extra,
});
const person = (description: string): JsonSchema => ({
  type: 'object',
  description,
  required: ['sub', 'name', 'email'],
  properties: { sub: { type: 'string' }, name: { type: ['string', 'null'] }, email: { type: ['string', 'null'] } },
});
const reason = (description: string): JsonSchema => ({
  type: 'string',
  minLength: 1,
  maxLength: MAX_REASON,
  description,
});

const approvalProperties: Record<string, JsonSchema> = {
  id: { type: 'string', format: 'uuid' },
  state: {
    type: 'string',
    enum: [...APPROVAL_STATES],
    description:
      '`pending` waits for approvers; `executing` was claimed by one gateway instance after the last approval; `executed` or `failed` once the Management API answered (or could not be reached: never retried); `denied`, `cancelled`, `expired` end it unexecuted; `outcome_unknown` when the instance died mid-execution (never executed again).',
  },
  operation: { type: 'string', description: 'The guarded operation id.', example: 'applications.delete' },
  method: { type: 'string', description: 'Its HTTP method.' },
  target: {
    type: 'string',
    description: 'The path asked for (API key values masked).',
    example: '/v1/applications/wSPk9y5D7p5o87k0ACGKxR',
  },
  team: nullable('string', 'The application’s owning team when it was asked for; null when none.'),
  requested_by: person('Who asked.'),
  reason: nullable('string', 'Why, as the requester said it (`X-Approval-Reason`).'),
  created_at: { type: 'string', format: 'date-time' },
  expires_at: {
    type: 'string',
    format: 'date-time',
    description: 'A pending request not approved by then becomes `expired`.',
  },
  approvals_needed: { type: 'integer', minimum: 1, description: 'How many distinct people must approve.' },
  approver_roles: {
    type: 'array',
    items: { type: 'string' },
    description: 'Only these roles may approve; empty: any role allowed the operation on the target.',
  },
  approvals: {
    type: 'array',
    description: 'The approvals so far, each person once.',
    items: {
      type: 'object',
      required: ['by', 'at', 'reason'],
      properties: {
        by: person('The approver.'),
        at: { type: 'string', format: 'date-time' },
        reason: { type: ['string', 'null'] },
      },
    },
  },
  input: {
    type: 'object',
    required: ['query', 'body'],
    description: 'The validated input as stored: what runs when the request is approved.',
    properties: {
      query: { type: 'object', additionalProperties: { type: 'string' } },
      body: { type: ['object', 'null'] },
    },
  },
  input_hash: {
    type: 'string',
    pattern: '^[0-9a-f]{64}$',
    description: 'SHA-256 of the stored operation and validated input: what the approvers approve is what runs.',
  },
  ended_at: nullable('string', 'When it left `pending` for good.', { format: 'date-time' }),
  ended_by: nullable('string', 'Who ended it (`sub`), or `gateway`.'),
  end_reason: nullable('string', 'The denial’s or cancellation’s reason.'),
  result: {
    type: ['object', 'null'],
    description:
      'The execution’s outcome: the upstream status, or the error that stopped it (`upstream_unavailable`, …). Null before.',
    required: ['status', 'error'],
    properties: { status: { type: ['integer', 'null'] }, error: { type: ['string', 'null'] } },
  },
};

export const APPROVAL_SCHEMAS: Record<string, JsonSchema> = {
  Approval: {
    type: 'object',
    required: Object.keys(approvalProperties),
    properties: approvalProperties,
    description: 'A request for a guarded operation, waiting for (or done with) a second person.',
  },
  ApprovalAnswer: { type: 'object', required: ['approval'], properties: { approval: ref('schemas', 'Approval') } },
  ApprovalPage: {
    type: 'object',
    required: ['approvals'],
    properties: {
      approvals: {
        type: 'array',
        items: ref('schemas', 'Approval'),
        description: 'Newest first, only those the caller may see.',
      },
    },
  },
  ApprovalDetail: {
    type: 'object',
    required: ['approval', 'result_body'],
    properties: {
      approval: ref('schemas', 'Approval'),
      result_body: {
        description:
          'The Management API’s answer to the execution (API key values masked); null before, or when it had none.',
      },
    },
  },
  ApprovalDecision: {
    type: 'object',
    required: ['approval'],
    properties: {
      approval: ref('schemas', 'Approval'),
      upstream: {
        type: 'object',
        description:
          'Only when this approval was the last one needed and the request ran: the Management API’s status and body (API key values masked unless the approver holds `apikeys.reveal`), or the error that stopped it.',
        required: ['status'],
        properties: { status: { type: ['integer', 'null'] }, body: {}, error: { type: 'string' } },
      },
    },
  },
};

/** What a guarded call answers: the stored request. */
export const APPROVAL_ACCEPTED = answer(
  202,
  'Guarded by the two-person rule (which operations are guarded is the policy’s choice; built-in: `applications.delete`): not forwarded, but stored as a pending approval request, at `Location`. It runs when approved (`POST /v1/approvals/{approval_id}/approve`).',
  json(ref('schemas', 'ApprovalAnswer')),
);

/** Request headers of every mutating Management operation. */
export const APPROVAL_HEADERS: JsonSchema[] = [
  {
    name: 'X-Approval-Reason',
    in: 'header',
    required: false,
    description: `Why, shown to approvers, when the operation is guarded (ignored otherwise). 1-${MAX_REASON} printable characters, else \`400 validation_failed\` (\`invalid_reason\`).`,
    schema: { type: 'string', minLength: 1, maxLength: MAX_REASON },
    example: 'decommissioned, see TICKET-42',
  },
  {
    name: 'X-Approval-Bypass',
    in: 'header',
    required: false,
    description: `Break-glass: run a guarded operation at once, without approval, giving the reason (1-${MAX_REASON} printable characters). Needs \`approvals.bypass\` (granted only by name), else \`403 forbidden\`; flagged in the audit trail and notified.`,
    schema: { type: 'string', minLength: 1, maxLength: MAX_REASON },
  },
];

/** What a mutating Management operation may also be refused with because of the rule. */
export const APPROVAL_REFUSALS: readonly ErrorCode[] = ['conflict', 'approvals_unavailable'];

const idParameter = {
  name: 'approval_id',
  in: 'path',
  required: true,
  description: 'The approval request’s id, from the `Location` of the 202.',
  schema: { type: 'string', format: 'uuid' },
};
// Seeing a request may read the target's owner (is the caller an approver?); a malformed id is just not found.
const READ: readonly ErrorCode[] = [...AUTHENTICATED, 'ownership_unavailable', 'approvals_unavailable'];
const CHANGE: readonly ErrorCode[] = [
  ...READ,
  'not_found',
  'forbidden',
  'conflict',
  'approval_expired',
  'invalid_json',
  'payload_too_large',
  'audit_unavailable',
];
const WHO_SEES =
  'Requesters see their own, approvers what they may approve, holders of `audit.read` all (a `team`-scoped reader: its teams’). Anything else is `404 not_found`.';
const WHO_ACTS =
  'The approver must be someone other than the requester (`403 forbidden`, reason `self_approval`), allowed the operation on the target themselves (role and team scope), and hold one of the rule’s `approver_roles` when it names any (`not_an_approver`). An ended request is `409 conflict` (`approval_not_pending`), an expired one `410 approval_expired`. Every attempt, refused ones too, is recorded in the audit trail.';

const operation = (operationId: string, summary: string, description: string, extra: JsonSchema): JsonSchema => ({
  operationId,
  summary,
  description: `${description}\n\nFor any signed-in caller. ${WHO_SEES}`,
  tags: ['Approvals'],
  ...extra,
});
const body = (schema: JsonSchema, example: unknown, required: boolean) => ({
  requestBody: { required, content: { 'application/json': { schema, example } } },
});

export const APPROVAL_OPERATIONS: readonly GatewayOperation[] = [
  {
    path: '/v1/approvals',
    method: 'get',
    operation: operation(
      'approvals.list',
      'List approval requests',
      'Newest first. Pending requests past their expiry are marked `expired` first.',
      {
        parameters: [
          {
            name: 'state',
            in: 'query',
            required: false,
            description: 'Only requests in this state.',
            schema: { type: 'string', enum: [...APPROVAL_STATES] },
          },
          {
            name: 'limit',
            in: 'query',
            required: false,
            description: 'At most this many.',
            schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
        ],
        responses: {
          ...answer(200, 'The requests the caller may see.', json(ref('schemas', 'ApprovalPage'))),
          ...refusals([...READ, 'validation_failed']),
        },
      },
    ),
  },
  {
    path: '/v1/approvals/{approval_id}',
    method: 'get',
    operation: operation(
      'approvals.get',
      'One approval request',
      'The request in full and, once it ran, the Management API’s answer (`result_body`, API key values masked): how the requester reads the result.',
      {
        parameters: [idParameter],
        responses: {
          ...answer(200, 'The request.', json(ref('schemas', 'ApprovalDetail'))),
          ...refusals([...READ, 'not_found']),
        },
      },
    ),
  },
  {
    path: '/v1/approvals/{approval_id}/approve',
    method: 'post',
    operation: operation(
      'approvals.approve',
      'Approve a request',
      `Counts the caller’s approval (once, however often they call). When it is the last one needed, the gateway executes the stored request now, exactly once across instances, and answers with the request \`executed\` or \`failed\` and the upstream’s answer. ${WHO_ACTS}`,
      {
        parameters: [idParameter],
        ...body(
          {
            type: 'object',
            additionalProperties: false,
            properties: { reason: reason('Optional: why, for the trail.') },
          },
          { reason: 'checked with the owner' },
          false,
        ),
        responses: {
          ...answer(
            200,
            'Approved (and, if it was the last approval, executed or failed).',
            json(ref('schemas', 'ApprovalDecision')),
          ),
          ...refusals([...CHANGE, 'validation_failed']),
        },
      },
    ),
  },
  {
    path: '/v1/approvals/{approval_id}/deny',
    method: 'post',
    operation: operation(
      'approvals.deny',
      'Deny a request',
      `Ends a pending request unexecuted. A reason is required (\`400 validation_failed\` without one). ${WHO_ACTS}`,
      {
        parameters: [idParameter],
        ...body(
          {
            type: 'object',
            required: ['reason'],
            additionalProperties: false,
            properties: { reason: reason('Why, shown to the requester.') },
          },
          { reason: 'still in use' },
          true,
        ),
        responses: {
          ...answer(200, 'Denied.', json(ref('schemas', 'ApprovalAnswer'))),
          ...refusals([...CHANGE, 'validation_failed']),
        },
      },
    ),
  },
  {
    path: '/v1/approvals/{approval_id}/cancel',
    method: 'post',
    operation: operation(
      'approvals.cancel',
      'Cancel one’s own request',
      'Ends a pending request unexecuted. Only the requester may (`403 forbidden`, reason `not_requester`); no body.',
      {
        parameters: [idParameter],
        responses: { ...answer(200, 'Cancelled.', json(ref('schemas', 'ApprovalAnswer'))), ...refusals(CHANGE) },
      },
    ),
  },
];
