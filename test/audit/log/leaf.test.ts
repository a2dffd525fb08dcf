import type { StoredEntry } from '../../../src/audit/trail/entry';
import { canonicalJson as jcs } from '../../../src/audit/trail/canonical-json';
import { leafHashOf, leafRecord, leafText } from '../../../src/audit/log/leaf';
import { nodeHash } from '../../../src/audit/log/merkle';

/** The test vectors of docs/audit-format.md: change one here and there together, never one alone. */
const FIRST: StoredEntry = {
  seq: 1n,
  at: '2026-11-27T07:26:12.123456Z',
  kind: 'request',
  eventId: '0b7f5c1e-4d2a-4c3b-9a8e-1f2e3d4c5b6a',
  requestId: 'req-1',
  actorSub: 'alice',
  actorName: null,
  actorEmail: 'alice@example.com',
  actorRoles: ['admin'],
  actorJti: null,
  actorIssuer: 'https://idp.example.com/',
  clientIp: '203.0.113.7',
  userAgent: 'curl/8.5',
  operation: 'webhooks.create',
  method: 'POST',
  path: '/v1/applications/app1/webhooks',
  applicationId: 'app1',
  webhookId: null,
  apikeyFingerprint: null,
  requestBody: { url: 'https://hooks.example.com/é', retries: 3, ratio: 0.5, z: null, a: [true, false] },
  details: null,
  decision: 'allowed',
  reason: 'role_grants_permission',
  outcome: null,
  upstreamStatus: null,
  errorCode: null,
  latencyMs: null,
  fingerprints: [],
  team: null,
  approvalId: null,
  clientRequestId: null,
  keyId: 'abc',
  hash: Buffer.alloc(32),
};
const SECOND: StoredEntry = {
  ...FIRST,
  seq: 2n,
  kind: 'response',
  at: '2026-11-27T07:26:12.201004Z',
  requestBody: null,
  outcome: 'success',
  upstreamStatus: 201,
  latencyMs: 77.125,
  webhookId: 'wh_9',
  team: 'payments',
  details: { note: 'line\nbreak "quoted" \u0001 😀' },
};

const VECTORS = [
  {
    entry: FIRST,
    text: '{"actor_email":"alice@example.com","actor_issuer":"https://idp.example.com/","actor_roles":["admin"],"actor_sub":"alice","application_id":"app1","at":"2026-11-27T07:26:12.123456Z","client_ip":"203.0.113.7","decision":"allowed","event_id":"0b7f5c1e-4d2a-4c3b-9a8e-1f2e3d4c5b6a","fingerprints":[],"kind":"request","method":"POST","operation":"webhooks.create","path":"/v1/applications/app1/webhooks","reason":"role_grants_permission","request_body":{"a":[true,false],"ratio":0.5,"retries":3,"url":"https://hooks.example.com/é","z":null},"request_id":"req-1","seq":"1","user_agent":"curl/8.5"}',
    bytes: 591,
    leaf: '778c897a343d696cecf51038e15bd489ccaf23990099f9e2786279f26445518f',
  },
  {
    entry: SECOND,
    text: '{"actor_email":"alice@example.com","actor_issuer":"https://idp.example.com/","actor_roles":["admin"],"actor_sub":"alice","application_id":"app1","at":"2026-11-27T07:26:12.201004Z","client_ip":"203.0.113.7","decision":"allowed","details":{"note":"line\\nbreak \\"quoted\\" \\u0001 😀"},"event_id":"0b7f5c1e-4d2a-4c3b-9a8e-1f2e3d4c5b6a","fingerprints":[],"kind":"response","latency_ms":77.125,"method":"POST","operation":"webhooks.create","outcome":"success","path":"/v1/applications/app1/webhooks","reason":"role_grants_permission","request_id":"req-1","seq":"2","team":"payments","upstream_status":201,"user_agent":"curl/8.5","webhook_id":"wh_9"}',
    bytes: 644,
    leaf: 'c318afb23cdeb4b7ef40792698ca1710c96c85efb795c227b34c2f899954cee4',
  },
];

describe('the canonical bytes of a leaf (docs/audit-format.md)', () => {
  test.each(VECTORS.map((v) => [v.entry.seq.toString(), v] as const))(
    'when entry %s is written as a leaf, then its bytes and leaf hash are the pinned vector',
    (_seq, v) => {
      const text = leafText(leafRecord(v.entry));
      expect(text).toBe(v.text);
      expect(Buffer.byteLength(text, 'utf8')).toBe(v.bytes);
      expect(leafHashOf(leafRecord(v.entry)).toString('hex')).toBe(v.leaf);
    },
  );

  test('when the two vectors are the whole log, then its root is the pinned one', () => {
    const root = nodeHash(Buffer.from(VECTORS[0]!.leaf, 'hex'), Buffer.from(VECTORS[1]!.leaf, 'hex'));
    expect(root.toString('hex')).toBe('49d24b997587331e5ad80d01213a756d130c76722b9a0dc1dc06407158def428');
  });

  test('when a column added later is null on an older entry, then the older leaf is unchanged; when set, it counts', () => {
    const record = leafRecord(FIRST);
    expect(leafText({ ...record, client_request_id: null })).toBe(VECTORS[0]!.text);
    expect(leafText({ ...record, client_request_id: 'abc' })).not.toBe(VECTORS[0]!.text);
  });

  test('when an export line is parsed and written again, then it is byte for byte the same (what the verifier relies on)', () => {
    for (const v of VECTORS) expect(leafText(JSON.parse(v.text) as Record<string, unknown>)).toBe(v.text);
  });

  test('when object keys are outside ASCII, then they sort by UTF-16 code units as RFC 8785 says', () => {
    expect(jcs({ '\u{1F600}': 1, '\uFB01': 2, é: 3, z: 4, A: 5 })).toBe('{"A":5,"z":4,"é":3,"😀":1,"ﬁ":2}');
    expect(jcs({ n: [1e21, 1e-7, -0, 0.1 + 0.2, 100] })).toBe('{"n":[1e+21,1e-7,0,0.30000000000000004,100]}');
  });
});
