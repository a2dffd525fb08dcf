import { ID_PATTERN } from '../catalogue/schemas';
import { TEAM_PATTERN } from '../ownership/teams';
import type { JsonSchema } from './input-schemas';
import { ref } from './responses';

/**
 * What the gateway's own actions answer (src/routes/*), written from the code that builds each answer: the
 * catalogue knows an action's inputs, not its responses. The test checks real answers against these.
 */
const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });
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
  SignedOutEverywhere: {
    type: 'object',
    required: ['sessions_ended'],
    properties: {
      sessions_ended: {
        type: 'integer',
        minimum: 0,
        description: 'How many browser sessions of the caller (issuer and subject) ended, this one included.',
      },
    },
  },
  Me: {
    type: 'object',
    required: ['sub', 'issuer', 'name', 'email', 'roles', 'teams', 'permissions', 'scopes', 'operations'],
    properties: {
      sub: { type: 'string' },
      issuer: {
        type: ['string', 'null'],
        description: 'The token’s `iss`: a person is their issuer and subject together.',
      },
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
    required: [
      'roles',
      'operation',
      'allowed',
      'reason',
      'granted_by',
      'scope',
      'reaches',
      'granted_by_name_only',
      'unknown_roles',
    ],
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
      granted_by_name_only: {
        type: 'boolean',
        description:
          'A gateway permission (`audit.read`, `ownership.manage`, …): granted only by its name, never by a wildcard (`*`, `*.read`).',
      },
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
    required: ['total', 'count', 'objects', 'next_cursor'],
    properties: {
      total: { type: 'integer', description: 'Applications upstream without an owner.' },
      count: { type: 'integer' },
      page: { type: 'integer', description: 'The page number asked for (1 by default); absent with a `cursor`.' },
      objects: { type: 'array', items: ref('schemas', 'Application'), description: 'Ordered by id.' },
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last.' },
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

const proof = (extra: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  required: [...required, 'proof', 'checkpoint'],
  properties: {
    ...extra,
    proof: {
      type: 'array',
      items: { type: 'string', description: 'A SHA-256 hash, base64.' },
      description: 'At most ceil(log2 n) + 1 hashes.',
    },
    checkpoint: {
      type: ['string', 'null'],
      description: 'The signed checkpoint of that tree size, if one was signed.',
    },
  },
});

export const LOG_SCHEMAS: Record<string, JsonSchema> = {
  InclusionProof: proof(
    {
      sequence: { type: 'string' },
      leaf_index: { type: 'integer' },
      tree_size: { type: 'integer' },
      leaf_hash: { type: 'string', description: 'SHA-256(0x00 ‖ canonical bytes), base64.' },
    },
    ['sequence', 'leaf_index', 'tree_size', 'leaf_hash'],
  ),
  ConsistencyProof: proof({ from: { type: 'integer' }, to: { type: 'integer' } }, ['from', 'to']),
  LogPublicKey: {
    type: 'object',
    required: ['origin', 'algorithm', 'public_key', 'verifier_key', 'keys'],
    properties: {
      origin: { type: 'string', description: "The checkpoints' origin line and the key's name." },
      algorithm: { const: 'Ed25519' },
      public_key: { type: 'string', description: 'PEM (SPKI).' },
      verifier_key: {
        type: 'string',
        description: 'The signed-note verifier key: `<name>+<hex key id>+<base64(0x01 ‖ key)>`.',
      },
      keys: {
        type: 'array',
        description:
          'Every key the log has signed checkpoints with, the current one first (even before it has signed one), each with its first and last checkpoint: a checkpoint kept from before a rotation of AUDIT_SIGNING_KEY finds the key that verifies it.',
        items: {
          type: 'object',
          required: ['verifier_key', 'origin', 'public_key', 'current', 'first_checkpoint', 'last_checkpoint'],
          properties: {
            verifier_key: { type: 'string' },
            origin: { type: 'string' },
            public_key: { type: 'string', description: 'PEM (SPKI).' },
            current: { type: 'boolean' },
            first_checkpoint: { oneOf: [ref('schemas', 'SignedPeriodEnd'), { type: 'null' }] },
            last_checkpoint: { oneOf: [ref('schemas', 'SignedPeriodEnd'), { type: 'null' }] },
          },
        },
      },
    },
  },
  SignedPeriodEnd: {
    type: 'object',
    required: ['tree_size', 'signed_at'],
    properties: { tree_size: { type: 'integer' }, signed_at: { type: 'string', format: 'date-time' } },
  },
};
