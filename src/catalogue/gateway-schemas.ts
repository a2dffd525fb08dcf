import { z } from 'zod';
import { OUTCOMES } from '../audit/trail/entry';
import { APPROVAL_STATES } from './approval-states';
import { ID_PATTERN, TEAM_PATTERN } from './schemas';

/**
 * Inputs of the gateway's own actions (src/catalogue/actions.ts): parsed by the one step every action takes, and
 * stated in the OpenAPI document as they are here (`.meta()`: a field's description and example for its readers).
 */

const reason = z.string().trim().min(1).max(500);
const cursor = z.string().max(200);
const fromNextCursor = (what: string) =>
  cursor.meta({ description: `From \`next_cursor\` of the previous page${what}.` }).optional();

export const approvalsListQuery = z.strictObject({
  state: z.enum(APPROVAL_STATES).meta({ description: 'Only requests in this state.' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100).meta({ description: 'At most this many.' }),
  cursor: fromNextCursor(''),
});
export const approveBody = z.strictObject({
  reason: reason.meta({ description: 'Optional: why, for the trail.' }).optional(),
});
export const denyBody = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1, 'a reason is required to deny')
    .max(500)
    .meta({ description: 'Why, shown to the requester.' }),
});
export const cancelBody = z.strictObject({
  reason: reason.meta({ description: 'Optional: why, for the trail.' }).optional(),
});

const team = z.string().regex(TEAM_PATTERN, 'must be a team name: 1-64 letters, digits, "_", ".", ":" or "-"');
const applicationId = z.string().regex(ID_PATTERN, 'must be an application id');
export const MAX_IMPORT_PAIRS = 1_000;
export const ownershipAssignBody = z.strictObject({
  team: team.meta({ description: 'The new owner.' }),
  allow_new_team: z.boolean().default(false).meta({ description: 'Allow a team that owns no application yet.' }),
});
export const ownershipImportBody = z.strictObject({
  pairs: z
    .array(
      z.strictObject({
        application_id: applicationId.meta({ description: 'The application’s id (App ID).' }),
        team: team.meta({ description: 'Its owner.' }),
      }),
    )
    .min(1)
    .max(MAX_IMPORT_PAIRS)
    .meta({ description: `Up to ${MAX_IMPORT_PAIRS} pairs, each application named once.` }),
  allow_new_teams: z.boolean().default(false).meta({ description: 'Allow teams that own no application yet.' }),
});
export const unownedQuery = z.strictObject({
  page_size: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: 'Applications per page.' }),
  cursor: fromNextCursor(''),
  // Kept for clients of before cursors: page N of page_size.
  page: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .meta({ description: 'Page number, from 1 (kept for clients of before `cursor`; ignored with one).' })
    .optional(),
});

export const policyExplainQuery = z.strictObject({
  role: z
    .string()
    .min(1)
    .max(512)
    .meta({ description: 'One role, or several separated by commas.', example: 'viewer,editor' }),
  operation: z.string().min(1).max(64).meta({
    description: 'An operation id or gateway permission (an unknown one is `unknown_operation`).',
    example: 'applications.delete',
  }),
  teams: z
    .string()
    .max(4096)
    .meta({
      description: 'The teams of the caller asked about, separated by commas (with `application_id`).',
      example: 'payments,search',
    })
    .optional(),
  application_id: applicationId
    .meta({
      description: 'Explain the decision on this application too: reads its owner, so needs `ownership.manage`.',
      example: 'wSPk9y5D7p5o87k0ACGKxR',
    })
    .optional(),
});

export const noInput = z.strictObject({});

// POST, so a leaked key being looked up never sits in a URL.
export const lookupKeyBody = z.strictObject({
  key: z.string().min(1).max(512).meta({ description: 'The secret to look for.' }),
});
export const verifyQuery = z.strictObject({
  checkpoint: z.string().max(2048).meta({ description: 'A legacy JSON checkpoint `token`.' }).optional(),
  full: z.enum(['true', 'false']).meta({ description: 'Re-walk every entry, not only the new ones.' }).optional(),
});

/**
 * A time Postgres's timestamptz takes as written: zod's ISO check lets through year 0000 and offsets past ±15:59,
 * which Postgres refuses, and that refusal was a 500 (issue 18, finding 5).
 */
const reviewTime = z.iso
  .datetime({ offset: true })
  .refine(
    (text) => !text.startsWith('0000-') && !/[+-](1[6-9]|[2-9]\d):\d\d$/.test(text),
    'must be from year 0001 on, with an offset within ±15:59',
  );

export const auditEventsQuery = z.strictObject({
  actor: z.string().min(1).max(256).meta({ description: 'The actor’s `sub`.', example: 'user-admin' }).optional(),
  operation: z
    .string()
    .min(1)
    .max(64)
    .meta({ description: 'Operation id, or a review action such as `audit.query`.', example: 'applications.delete' })
    .optional(),
  application_id: z
    .string()
    .min(1)
    .max(128)
    .meta({ description: 'Target application.', example: 'wSPk9y5D7p5o87k0ACGKxR' })
    .optional(),
  decision: z.enum(['allowed', 'denied']).meta({ description: 'Policy decision.' }).optional(),
  outcome: z
    .enum([...OUTCOMES, 'pending'])
    .meta({ description: 'How the call ended.' })
    .optional(),
  request_id: z
    .string()
    .min(1)
    .max(128)
    .meta({
      description: 'The gateway’s request id (the `X-Request-Id` it answered with; not the one a client sent).',
      example: 'req-0001-abcd',
    })
    .optional(),
  since: reviewTime
    .meta({ description: 'Events at or after this time (RFC 3339 with an offset).', example: '2020-01-01T00:00:00Z' })
    .optional(),
  until: reviewTime.meta({ description: 'Events before this time.', example: '2100-01-01T00:00:00Z' }).optional(),
  key_fingerprint: z
    .string()
    .regex(/^hmac-sha256:[0-9a-f]{64}$/, 'must be a fingerprint as /v1/audit/lookup-key returns it')
    .meta({
      description: 'Events mentioning this secret, as `POST /v1/audit/lookup-key` returns its fingerprint.',
      example: `hmac-sha256:${'0'.repeat(64)}`,
    })
    .optional(),
  kind: z
    .enum(['mutation', 'decision', 'access', 'system', 'approval'])
    .meta({
      description:
        'Kind of event (`approval`: the two-person rule’s requests, approvals, denials, cancellations, expiries).',
    })
    .optional(),
  approval_id: z
    .uuid()
    .meta({
      description: 'Every event of one approval request: its lifecycle and its execution.',
      example: '7b0c2f4e-1d3a-4c5b-9e8f-0a1b2c3d4e5f',
    })
    .optional(),
  team: z
    .string()
    .regex(TEAM_PATTERN, 'must be a team name')
    .meta({
      description:
        'The application’s owning team when the event happened (a transfer is found under the team it came from).',
      example: 'demo',
    })
    .optional(),
  order: z.enum(['asc', 'desc']).default('desc').meta({ description: 'Oldest or newest first.' }),
  limit: z.coerce.number().int().min(1).max(1000).default(50).meta({ description: 'Events per page.' }),
  cursor: fromNextCursor(' (with the same `order`)'),
  format: z
    .enum(['json', 'csv', 'ndjson'])
    .meta({ description: 'Instead of `Accept`: `csv` or `ndjson` export everything that matches, streamed.' })
    .optional(),
});

/** A tree size or sequence number of the transparency log. */
const logSize = (description: string) =>
  z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).meta({ description, example: '1' });
export const inclusionProofQuery = z.strictObject({
  sequence: logSize('The entry’s sequence number.'),
  tree_size: logSize('The tree size to prove against (default: the latest checkpoint).').optional(),
});
export const consistencyProofQuery = z.strictObject({
  from: logSize('The older tree size (a checkpoint you kept).'),
  to: logSize('The newer tree size.'),
});
export const logEntriesQuery = z.strictObject({
  from: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .default(0)
    .meta({ description: 'First leaf index.', example: '0' }),
  to: logSize('End of the range, exclusive (default: the tree size).').optional(),
});
