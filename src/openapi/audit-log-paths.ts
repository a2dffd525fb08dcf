import type { JsonSchema } from './input-schemas';
import { answer, AUTHENTICATED, ref, refusals, type Responses } from './responses';

/** The transparency log's endpoints (issue 15, src/routes/audit-log.ts), spliced into the gateway's paths. */

const AUDIT_READ = [...AUTHENTICATED, 'forbidden'] as const;
const size = (name: string, description: string, example: string, required = true): JsonSchema => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'string', pattern: '^[1-9]\\d{0,15}$' },
  example,
});
const NOTE: Record<string, JsonSchema> = {
  'text/plain': {
    type: 'string',
    description:
      "A C2SP tlog-checkpoint signed note: origin, tree size, base64 root hash, a blank line, the log's Ed25519 signature line, then witness cosignature lines.",
  },
};
const log = (
  operationId: string,
  summary: string,
  description: string,
  responses: Responses,
  extra: JsonSchema = {},
): JsonSchema => ({
  operationId,
  summary,
  description: `${description}\n\nNeeds the \`audit.read\` permission. Each use is itself recorded in the trail. See docs/audit-format.md.`,
  tags: ['Audit'],
  'x-permission': 'audit.read',
  ...extra,
  responses,
});
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
    required: ['origin', 'algorithm', 'public_key', 'verifier_key'],
    properties: {
      origin: { type: 'string', description: "The checkpoints' origin line and the key's name." },
      algorithm: { const: 'Ed25519' },
      public_key: { type: 'string', description: 'PEM (SPKI).' },
      verifier_key: {
        type: 'string',
        description: 'The signed-note verifier key: `<name>+<hex key id>+<base64(0x01 ‖ key)>`.',
      },
    },
  },
};

export const LOG_OPERATIONS: { path: string; method: 'get' | 'post'; operation: JsonSchema }[] = [
  {
    path: '/v1/audit/checkpoint',
    method: 'post',
    operation: log(
      'audit.checkpoint',
      'Sign a checkpoint now',
      "Brings the Merkle tree up to the newest entry, signs a checkpoint if it grew, collects the witnesses' cosignatures, and answers the latest checkpoint.",
      {
        ...answer(200, 'The latest signed checkpoint.', NOTE),
        ...refusals(AUDIT_READ),
      },
      { operationId: 'audit.checkpoint.sign' },
    ),
  },
  {
    path: '/v1/audit/public-key',
    method: 'get',
    operation: log(
      'audit.public_key',
      'The key that signs checkpoints',
      "The log's Ed25519 public key, as PEM and as a signed-note verifier key. Obtain it once, over a channel you trust.",
      {
        ...answer(200, 'The key.', { 'application/json': ref('schemas', 'LogPublicKey') }),
        ...refusals(AUDIT_READ),
      },
    ),
  },
  {
    path: '/v1/audit/proof/inclusion',
    method: 'get',
    operation: log(
      'audit.proof_inclusion',
      'Prove an entry is in the log',
      'The RFC 6962 audit path of one entry (leaf index = sequence − 1) in the tree of `tree_size` entries (default: the latest checkpoint).',
      {
        ...answer(200, 'The proof.', { 'application/json': ref('schemas', 'InclusionProof') }),
        ...refusals([...AUDIT_READ, 'validation_failed']),
      },
      {
        parameters: [
          size('sequence', "The entry's sequence number.", '1'),
          size('tree_size', 'The tree size to prove against.', '1', false),
        ],
      },
    ),
  },
  {
    path: '/v1/audit/proof/consistency',
    method: 'get',
    operation: log(
      'audit.proof_consistency',
      'Prove the log only grew',
      'The RFC 6962 consistency proof that the tree of `from` entries is a prefix of the tree of `to` entries.',
      {
        ...answer(200, 'The proof.', { 'application/json': ref('schemas', 'ConsistencyProof') }),
        ...refusals([...AUDIT_READ, 'validation_failed']),
      },
      {
        parameters: [
          size('from', 'The older tree size (a checkpoint you kept).', '1'),
          size('to', 'The newer tree size.', '1'),
        ],
      },
    ),
  },
  {
    path: '/v1/audit/log/entries',
    method: 'get',
    operation: log(
      'audit.export_log',
      "Export the log's leaves",
      'Every entry in [from, to) as the canonical bytes of its leaf, one per line: what `npm run audit:verify` rebuilds the tree from. Whole-log readers only (not team-scoped).',
      {
        ...answer(200, 'The leaves, streamed.', {
          'application/x-ndjson': { type: 'string', description: 'One canonical leaf (RFC 8785 JSON) per line.' },
        }),
        ...refusals([...AUDIT_READ, 'validation_failed']),
      },
      {
        parameters: [
          {
            name: 'from',
            in: 'query',
            required: false,
            description: 'First leaf index (default 0).',
            schema: { type: 'string', pattern: '^\\d{1,16}$' },
            example: '0',
          },
          size('to', 'End of the range, exclusive (default: the tree size).', '1', false),
        ],
      },
    ),
  },
];
