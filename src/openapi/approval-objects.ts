import { APPROVAL_STATES } from '../approvals/states';
import { NAME_STATUSES } from '../approvals/target-names';
import type { ErrorCode } from '../errors/codes';
import type { JsonSchema } from './input-schemas';
import { answer, ref } from './responses';

/**
 * The two-person rule in the document (issue 14): the approval object (src/approvals/present.ts), and what every
 * mutating Management operation gains (src/pipeline/require-approval.ts): a possible `202`, the
 * `X-Approval-Reason` and `X-Approval-Bypass` headers, `409 approval_pending`.
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
  required: ['issuer', 'subject', 'email', 'name'],
  properties: {
    issuer: {
      type: ['string', 'null'],
      description: 'The verified token’s `iss`: with `subject`, who the person is (null for a token without one).',
    },
    subject: { type: 'string', description: 'The verified token’s `sub`.' },
    email: { type: ['string', 'null'], description: 'The token’s `email` claim, when it had one.' },
    name: {
      type: ['string', 'null'],
      description:
        'The token’s `name` claim: a display name the person’s IdP vouches for, not an identity. Show it beside `issuer` and `subject`, never instead.',
    },
  },
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
  path: {
    type: 'string',
    description: 'The path asked for (API key values masked).',
    example: '/v1/applications/wSPk9y5D7p5o87k0ACGKxR',
  },
  target: {
    type: 'object',
    description: 'What the request would change.',
    required: ['application_id', 'name', 'name_status', 'team'],
    properties: {
      application_id: nullable('string', 'The application; null when the request names none (a create).'),
      name: nullable(
        'string',
        'The application’s name as the Management API has it when the request is read (`GET /v1/approvals`, `GET /v1/approvals/{id}`; each name is one upstream read, metered by the shared budget); null when it could not be read: see `name_status`.',
      ),
      name_status: {
        type: 'string',
        enum: [...NAME_STATUSES],
        description:
          '`current`: read just now; `not_found`: the Management API has no such application (deleted); `unavailable`: it could not be asked (unreachable, the shared budget spent); `not_read`: answers to actions do not read names; `not_applicable`: no application named.',
      },
      team: nullable('string', 'The application’s owning team when it was asked for.'),
    },
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
  ended_by_issuer: nullable('string', 'The issuer of who ended it (with `ended_by`, the person); null when none.'),
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
    required: ['approvals', 'next_cursor'],
    properties: {
      approvals: {
        type: 'array',
        items: ref('schemas', 'Approval'),
        description: 'Newest first, only those the caller may see.',
      },
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last.' },
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
        properties: {
          status: { type: ['integer', 'null'] },
          body: {},
          error: { type: 'string' },
          reason: { type: ['string', 'null'], description: 'Why the error, when it has a reason.' },
        },
      },
    },
  },
};

/** What a guarded call answers: the stored request. */
export const APPROVAL_ACCEPTED = answer(
  202,
  'Guarded by the two-person rule (which operations are guarded is the policy’s choice; built-in: `applications.delete`): not forwarded, but stored as a pending approval request, at `Location`. It runs when approved (`POST /v1/approvals/{id}/approve`).',
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
