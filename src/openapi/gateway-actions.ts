import type { Action } from '../catalogue/actions';
import { ID_PATTERN } from '../catalogue/schemas';
import type { ErrorCode } from '../errors/codes';
import { inputSchema, queryParameters, type JsonSchema } from './input-schemas';
import { answer, AUTHENTICATED, envelopeWith, ref, refusals, type Responses } from './responses';

/**
 * The gateway's own actions in the document, one per catalogue row (src/catalogue/actions.ts): path, method,
 * operationId, summary, permission, parameters and request body come from the row and its zod schemas. Written by
 * hand, keyed by action id, is only what the catalogue cannot know: what each answers, and the refusals its
 * handler adds to those every action may give.
 */
interface ActionDoc {
  description: string;
  /** The answer on success, one schema per media type. */
  success: Responses;
  /** What the handler refuses with, besides what the pipeline refuses every action with (see `pipelineRefusals`). */
  refuses?: readonly ErrorCode[];
  /** Responses that take the place of the generated ones of their status. */
  replaces?: Responses;
  /** An example request body, sent by the test against the running gateway. */
  example?: JsonSchema;
}

const TAGS: Record<string, string> = {
  me: 'Identity',
  policy: 'Policy',
  approvals: 'Approvals',
  ownership: 'Ownership',
  audit: 'Audit',
};

/** The `:name` parameters the gateway's own paths use; a row with another one stops the build of the document. */
const PATH_PARAMETERS: Record<string, JsonSchema> = {
  id: {
    description: 'The approval request’s id, from the `Location` of the 202 (any other text is `404 not_found`).',
    schema: { type: 'string', format: 'uuid' },
  },
  application_id: {
    description: 'The application’s id (App ID).',
    schema: { type: 'string', pattern: ID_PATTERN.source },
    example: 'wSPk9y5D7p5o87k0ACGKxR',
  },
  sequence: {
    description: 'A sequence number of the audit trail.',
    schema: { type: 'string', pattern: '^[1-9]\\d{0,18}$' },
    example: '1',
  },
};

const json = (name: string) => ({ 'application/json': ref('schemas', name) });
const UPSTREAM = ['upstream_unavailable', 'upstream_bad_response', 'upstream_timeout'] as const;
// Seeing an approval request may read the target's owner (is the caller an approver?).
const APPROVAL_READ = ['ownership_unavailable', 'approvals_unavailable'] as const;
const APPROVAL_CHANGE = [...APPROVAL_READ, 'not_found', 'forbidden', 'conflict', 'approval_expired'] as const;
const WHO_SEES =
  'For any signed-in caller. Requesters see their own, approvers what they may approve, holders of `audit.read` all (a `team`-scoped reader: its teams’). Anything else is `404 not_found`.';
const WHO_ACTS =
  'The approver must be someone other than the requester (`403 forbidden`, reason `self_approval`), allowed the operation on the target themselves (role and team scope), and hold one of the rule’s `approver_roles` when it names any (`not_an_approver`). An ended request is `409 conflict` (`approval_not_pending`), an expired one `410 approval_expired`. Every attempt, refused ones too, is recorded in the audit trail.';
const AUDIT_USE = 'Each use is itself recorded in the trail, refused attempts too.';
const LOG_USE = `${AUDIT_USE} See docs/audit-format.md.`;
const NOTE = {
  'text/plain': {
    type: 'string',
    description:
      "A C2SP tlog-checkpoint signed note: origin, tree size, base64 root hash, a blank line, the log's Ed25519 signature line, then witness cosignature lines.",
  },
};

export const ACTION_DOCS: Record<string, ActionDoc> = {
  'me.read': {
    description:
      'The caller’s identity, roles, permissions and the operations they may call, so a front-end shows only the buttons that work.',
    success: answer(200, 'The caller.', json('Me')),
  },
  'me.sign_out_everywhere': {
    description:
      'Ends every browser session of the caller — the person, issuer and subject — on every instance at once, this one included (its cookie is cleared): after a lost laptop, or before leaving. With a bearer token it ends the same person’s browser sessions; the token itself stays valid until it expires. Recorded in the audit trail (`session.sign_out_everywhere`, with the count).',
    success: answer(200, 'Signed out everywhere.', json('SignedOutEverywhere')),
  },
  'policy.explain': {
    description:
      'Would these roles be allowed this operation, and why. For any signed-in caller: it shows the policy, not anyone’s data. Naming an application reads its owner, so that part needs `ownership.manage` on it (`403 forbidden` without the permission, `404 not_found` for an application its scope does not reach).',
    success: answer(200, 'The decision.', json('PolicyExplanation')),
    refuses: ['forbidden', 'not_found', 'ownership_unavailable'],
  },
  'approvals.list': {
    description: `Newest first, in pages (\`next_cursor\`). Pending requests past their expiry are marked \`expired\` first. ${WHO_SEES}`,
    success: answer(200, 'The requests the caller may see.', json('ApprovalPage')),
    refuses: APPROVAL_READ,
  },
  'approvals.get': {
    description: `The request in full and, once it ran, the Management API’s answer (\`result_body\`, API key values masked): how the requester reads the result. ${WHO_SEES}`,
    success: answer(200, 'The request.', json('ApprovalDetail')),
    refuses: [...APPROVAL_READ, 'not_found'],
  },
  'approvals.approve': {
    description: `Counts the caller’s approval (once, however often they call). When it is the last one needed, the gateway decides the stored request again and executes it now, exactly once across instances, and answers with the request \`executed\` or \`failed\` and the upstream’s answer. ${WHO_ACTS}`,
    success: answer(200, 'Approved (and, if it was the last approval, executed or failed).', json('ApprovalDecision')),
    refuses: APPROVAL_CHANGE,
    example: { reason: 'checked with the owner' },
  },
  'approvals.deny': {
    description: `Ends a pending request unexecuted. A reason is required (\`400 validation_failed\` without one). ${WHO_ACTS}`,
    success: answer(200, 'Denied.', json('ApprovalAnswer')),
    refuses: APPROVAL_CHANGE,
    example: { reason: 'still in use' },
  },
  'approvals.cancel': {
    description:
      'Ends a pending request unexecuted. Only the requester may (`403 forbidden`, reason `not_requester`). Recorded in the audit trail.',
    success: answer(200, 'Cancelled.', json('ApprovalAnswer')),
    refuses: APPROVAL_CHANGE,
    example: { reason: 'no longer needed' },
  },
  'ownership.get': {
    description:
      'The owning team as the gateway records it (null when none: an application created before the gateway, or deleted). An application the caller’s scope does not reach is `404 not_found`.',
    success: answer(200, 'The owner.', json('Ownership')),
    refuses: ['not_found', 'ownership_unavailable'],
  },
  'ownership.assign': {
    description:
      'Gives the application (which must exist upstream) to a team. An audited mutation: recorded before it takes effect, and not made if the trail cannot record it. A team that owns nothing yet is refused unless `allow_new_team` (a typo would give an application to a team nobody is in); the current owner is a `409 conflict`.',
    success: answer(200, 'The new owner, and the previous one.', json('OwnershipChange')),
    refuses: ['not_found', 'conflict', 'ownership_unavailable', ...UPSTREAM],
    example: { team: 'payments', allow_new_team: true },
  },
  'ownership.unowned': {
    description:
      'Applications that exist upstream but no team owns (those created before the gateway), ordered by id, in pages: follow `next_cursor`, or (as before cursors) ask for a `page`.',
    success: answer(200, 'A page of applications.', json('UnownedPage')),
    refuses: ['ownership_unavailable', ...UPSTREAM],
  },
  'ownership.import': {
    description:
      'Up to 1,000 `application_id,team` pairs a call (`npm run ownership:import -- file.csv` sends a file of any length in such calls). All or nothing: an application named twice, one that does not exist upstream, or a team that owns nothing yet (without `allow_new_teams`) refuses the whole call, every problem listed in `details` by pair (`pairs.N`). Each change is an audited mutation; pairs already true are `unchanged`.',
    success: answer(200, 'What each pair did.', json('OwnershipImport')),
    refuses: [...UPSTREAM],
    replaces: answer(
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
    example: { pairs: [{ application_id: 'wSPk9y5D7p5o87k0ACGKxR', team: 'demo' }] },
  },
  'audit.query': {
    description: `Requests joined with their outcomes, newest first by default, in pages. With \`Accept: text/csv\` or \`application/x-ndjson\` (or \`format\`), everything that matches is exported as one streamed download. ${AUDIT_USE}`,
    success: answer(200, 'A page of events, or the export.', {
      ...json('AuditEventPage'),
      'text/csv': { type: 'string', description: 'A header row, then one row per event.' },
      'application/x-ndjson': { type: 'string', description: 'One AuditEvent per line.' },
    }),
    refuses: ['audit_read_unavailable'],
  },
  'audit.read_event': {
    description: `The event that begins at this sequence number (or contains it), with every raw entry and its hash. ${AUDIT_USE}`,
    success: answer(200, 'The event.', json('AuditEventDetail')),
    refuses: ['not_found', 'audit_read_unavailable'],
  },
  'audit.verify': {
    description: `Verifies the entries the Merkle tree took in since the last verification (HMAC link and leaf hash of each), that the stored tree still extends the last verified one and the latest signed checkpoint; \`full=true\` re-walks everything. Reports the first broken sequence number and why. With a legacy JSON checkpoint \`token\`, walks the whole HMAC chain as before (truncation of the newest entries is detected too; one such walk at a time, else \`429 rate_limited\`). ${AUDIT_USE}`,
    success: answer(200, 'The verdict (`ok: false` is still a 200: the check ran).', json('Verification')),
  },
  'audit.lookup_key': {
    description: `Fingerprints the key with the audit key and lists every entry that mentions it. A POST, so the key never sits in a URL. ${AUDIT_USE}`,
    success: answer(200, 'The fingerprint and the entries.', json('KeyLookup')),
    refuses: ['audit_read_unavailable'],
    example: { key: '80OdF5hXzkNqEs9DHRkiA1EXz1pbF4' },
  },
  'audit.checkpoint': {
    description: `The latest C2SP checkpoint of the audit log (a signed note with witness cosignatures; issue 15, docs/audit-format.md), signed afresh if the tree grew over AUDIT_CHECKPOINT_INTERVAL_S. Keep it elsewhere. Deprecated: with \`Accept: application/json\` the JSON \`{sequence, hash, time}\` checkpoint of before. ${AUDIT_USE}`,
    success: answer(200, 'The signed checkpoint.', {
      'text/plain': { type: 'string', description: 'A C2SP signed note.' },
      ...json('Checkpoint'),
    }),
  },
  'audit.sign_checkpoint': {
    description: `Brings the Merkle tree up to the newest entry, signs a checkpoint if it grew, collects the witnesses' cosignatures, and answers the latest checkpoint. ${LOG_USE}`,
    success: answer(200, 'The latest signed checkpoint.', NOTE),
  },
  'audit.public_key': {
    description: `The log's Ed25519 public key, as PEM and as a signed-note verifier key. Obtain it once, over a channel you trust. ${LOG_USE}`,
    success: answer(200, 'The key.', json('LogPublicKey')),
  },
  'audit.proof_inclusion': {
    description: `The RFC 6962 audit path of one entry (leaf index = sequence − 1) in the tree of \`tree_size\` entries (default: the latest checkpoint). ${LOG_USE}`,
    success: answer(200, 'The proof.', json('InclusionProof')),
  },
  'audit.proof_consistency': {
    description: `The RFC 6962 consistency proof that the tree of \`from\` entries is a prefix of the tree of \`to\` entries. ${LOG_USE}`,
    success: answer(200, 'The proof.', json('ConsistencyProof')),
  },
  'audit.export_log': {
    description: `Every entry in [from, to) as the canonical bytes of its leaf, one per line: what \`npm run audit:verify\` rebuilds the tree from. Whole-log readers only (a \`team\`-scoped one is \`403 forbidden\`). ${LOG_USE}`,
    success: answer(200, 'The leaves, streamed.', {
      'application/x-ndjson': { type: 'string', description: 'One canonical leaf (RFC 8785 JSON) per line.' },
    }),
  },
};

/** The OpenAPI template of a catalogue path: `:name` → `{name}`. */
export const templateOf = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

/**
 * What the one pipeline refuses any action with (src/app.ts): authentication and the per-person limit; the
 * permission decision; the input check against the row (a body sent to an action that takes none, a query field
 * not in its schema); the hardened body reader; a mutation the trail cannot record.
 */
function pipelineRefusals(action: Action): ErrorCode[] {
  return [
    ...AUTHENTICATED,
    ...(action.permission ? (['forbidden'] as const) : []),
    'validation_failed',
    ...(action.body
      ? (['invalid_json', 'invalid_content_encoding', 'payload_too_large', 'unsupported_media_type'] as const)
      : []),
    ...(action.mutates ? (['audit_unavailable'] as const) : []),
  ];
}

export function gatewayOperation(action: Action): JsonSchema {
  const doc = ACTION_DOCS[action.id];
  const family = action.id.split('.')[0] ?? '';
  if (!doc || !TAGS[family])
    throw new Error(
      `OpenAPI: no documentation for the action ${action.id}; add it to ACTION_DOCS (and its family to TAGS)`,
    );
  const pathParameters = [...action.path.matchAll(/:(\w+)/g)].map(([, name = '']) => {
    const parameter = PATH_PARAMETERS[name];
    if (!parameter) throw new Error(`OpenAPI: no description of the path parameter ${name} (${action.id})`);
    return { name, in: 'path', required: true, ...parameter };
  });
  const parameters = [...pathParameters, ...(action.query ? queryParameters(action.query, {}) : [])];
  const codes = [...new Set([...pipelineRefusals(action), ...(doc.refuses ?? [])])];
  return {
    operationId: action.id,
    summary: action.summary,
    description: [doc.description, permissionNote(action), bodyNote(action)].filter(Boolean).join('\n\n'),
    tags: [TAGS[family]],
    ...(action.permission ? { 'x-permission': action.permission } : {}),
    ...(action.mutates ? { 'x-mutates': true } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(action.body ? { requestBody: requestBody(action.body, doc.example) } : {}),
    responses: { ...doc.success, ...refusals(codes), ...doc.replaces },
  };
}

function permissionNote(action: Action): string {
  if (!action.permission) return '';
  const builtIn = action.permission === 'ownership.manage' ? ' (built-in: `admin`)' : '';
  return `Needs the \`${action.permission}\` permission${builtIn}, granted by its name only (never by a wildcard).`;
}

function bodyNote(action: Action): string {
  if (!action.body) return 'Takes no request body (one sent is `400 validation_failed`, reason `unexpected_body`).';
  const limit = action.bodyLimitBytes ? `${action.bodyLimitBytes / 1024} KiB` : 'BODY_LIMIT';
  return `The body is JSON (\`application/json\`, UTF-8; anything else is \`415 unsupported_media_type\`), at most ${limit} (\`413 payload_too_large\`).`;
}

function requestBody(schema: NonNullable<Action['body']>, example: JsonSchema | undefined): JsonSchema {
  const json = inputSchema(schema, {});
  // Nothing, or `{}`, when no field is required: the input check reads a missing body as `{}`.
  const required = ((json.required ?? []) as string[]).length > 0;
  return { required, content: { 'application/json': { schema: json, ...(example ? { example } : {}) } } };
}
