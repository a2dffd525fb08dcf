import { z } from 'zod';
import { APPROVAL_STATES } from './approval-states';
import { ID_PATTERN, TEAM_PATTERN } from './schemas';

/** Inputs of the gateway's own actions (src/catalogue/actions.ts): parsed by the one step every action takes. */

const reason = z.string().trim().min(1).max(500);
const cursor = z.string().max(200);

export const approvalsListQuery = z.strictObject({
  state: z.enum(APPROVAL_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: cursor.optional(),
});
export const approveBody = z.strictObject({ reason: reason.optional() });
export const denyBody = z.strictObject({ reason: z.string().trim().min(1, 'a reason is required to deny').max(500) });
export const cancelBody = z.strictObject({ reason: reason.optional() });

const team = z.string().regex(TEAM_PATTERN, 'must be a team name: 1-64 letters, digits, "_", ".", ":" or "-"');
const applicationId = z.string().regex(ID_PATTERN, 'must be an application id');
export const MAX_IMPORT_PAIRS = 1_000;
export const ownershipAssignBody = z.strictObject({ team, allow_new_team: z.boolean().default(false) });
export const ownershipImportBody = z.strictObject({
  pairs: z
    .array(z.strictObject({ application_id: applicationId, team }))
    .min(1)
    .max(MAX_IMPORT_PAIRS),
  allow_new_teams: z.boolean().default(false),
});
export const unownedQuery = z.strictObject({
  page_size: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: cursor.optional(),
  // Kept for clients of before cursors: page N of page_size.
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

export const policyExplainQuery = z.strictObject({
  role: z.string().min(1).max(512),
  operation: z.string().min(1).max(64),
  teams: z.string().max(4096).optional(),
  application_id: applicationId.optional(),
});

export const noInput = z.strictObject({});

// POST, so a leaked key being looked up never sits in a URL.
export const lookupKeyBody = z.strictObject({ key: z.string().min(1).max(512) });
export const verifyQuery = z.strictObject({
  checkpoint: z.string().max(2048).optional(),
  full: z.enum(['true', 'false']).optional(),
});
