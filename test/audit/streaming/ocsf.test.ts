import { join } from 'node:path';
import type { StoredEntry } from '../../../src/audit/trail/entry';
import { OCSF_VERSION, ocsfEvent } from '../../../src/audit/stream/ocsf';
import { allEntries } from '../../helpers/audit';
import { startHarness, type Harness } from '../../helpers/harness';
import { loadOcsfSchema } from '../../helpers/ocsf-schema';
import { tokenFor } from '../../helpers/tokens';

/** The OCSF schema's definitions the mapping uses, kept as test data (source and version in their README.md). */
export const OCSF_FIXTURES = join(__dirname, '..', '..', 'fixtures', `ocsf-${OCSF_VERSION}`);
const EVENT_FILES = [
  'events/base_event.json',
  'events/application/application.json',
  'events/application/api_activity.json',
  'events/iam/iam.json',
  'events/iam/authentication.json',
];
const PRODUCT = { name: 'Kloudless Management Gateway', version: '0.1.0' };
const APP = 'wSPk9y5D7p5o87k0ACGKxR';

describe('the trail as OCSF events', () => {
  let h: Harness;
  let entries: StoredEntry[];
  const schema = loadOcsfSchema(process.env.OCSF_SCHEMA_DIR ?? OCSF_FIXTURES, EVENT_FILES);

  beforeAll(async () => {
    h = await startHarness();
    const admin = tokenFor('admin');
    const post = (token: string) =>
      h
        .api()
        .post(`/v1/applications/${APP}/webhooks`)
        .set('Authorization', `Bearer ${token}`)
        .send({ url: 'https://hooks.example.com/ocsf' });
    await post(admin).expect(201);
    await post(tokenFor('viewer')).expect(403);
    await h.api().delete(`/v1/applications/${APP}/webhooks/nope`).set('Authorization', `Bearer ${admin}`);
    await h
      .api()
      .get('/v1/audit/events')
      .set('Authorization', `Bearer ${tokenFor('auditor', 'aud')}`)
      .expect(200);
    await h.deps.audit.recorder.recordSystem('audit.full_verification', { ok: false, problem: 'modified' });
    entries = await allEntries(h);
  }, 60_000);
  afterAll(() => h.close());

  /** Entries of the kinds a test run above does not make, shaped as their writers shape them. */
  const alsoShaped = (base: StoredEntry): StoredEntry[] => [
    { ...base, kind: 'access', operation: 'session.sign_in', outcome: 'success', decision: 'allowed' },
    { ...base, kind: 'access', operation: 'session.sign_out', outcome: 'success', decision: 'allowed' },
    { ...base, kind: 'approval', operation: 'approval.request', approvalId: '6f1c1c1e-0d8e-4c55-9a55-3f9e4f7f2a11' },
    { ...base, kind: 'approval', operation: 'approval.approve', approvalId: '6f1c1c1e-0d8e-4c55-9a55-3f9e4f7f2a11' },
    { ...base, kind: 'approval', operation: 'approval.bypass', approvalId: '6f1c1c1e-0d8e-4c55-9a55-3f9e4f7f2a11' },
    { ...base, clientIp: '2001:db8::7', actorSub: null, actorRoles: [], method: null, path: null },
    // Unauthenticated requests are not in the trail today (docs/audit-trail.md); should a refused token be recorded,
    // it is a decision entry with this error code.
    { ...base, kind: 'decision', errorCode: 'invalid_token', outcome: 'invalid', decision: null, actorSub: null },
  ];

  test('when every kind of entry is mapped, then each event validates against the published OCSF schema', () => {
    const all = [...entries, ...alsoShaped(entries.find((e) => e.kind === 'request')!)];
    expect(all.length).toBeGreaterThanOrEqual(12);
    const problems = all.flatMap((e) => schema.validate(ocsfEvent(e, PRODUCT)).map((p) => `seq ${e.seq} ${p}`));
    expect(problems).toEqual([]);
    expect(schema.version).toBe(OCSF_VERSION);
  });

  test('when operations, sign-ins and refused tokens are mapped, then they are API Activity and Authentication as the table says', () => {
    const event = (e: StoredEntry) => ocsfEvent(e, PRODUCT) as Record<string, unknown>;
    const create = entries.find((e) => e.kind === 'response' && e.operation === 'webhooks.create')!;
    expect(event(create)).toMatchObject({
      class_uid: 6003,
      category_uid: 6,
      activity_id: 1,
      type_uid: 600301,
      status_id: 1,
      metadata: { uid: create.eventId, sequence: Number(create.seq), version: '1.8.0' },
      api: { operation: 'webhooks.create', request: { uid: create.requestId } },
      http_response: { code: 201 },
      actor: { user: { uid: create.actorSub } },
      unmapped: { sequence: String(create.seq), leaf_hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const denied = entries.find((e) => e.kind === 'decision' && e.errorCode === 'forbidden')!;
    expect(event(denied)).toMatchObject({ class_uid: 6003, type_uid: 600301, status_id: 2, severity_id: 2 });
    const refusedToken = alsoShaped(create).at(-1)!;
    expect(event(refusedToken)).toMatchObject({
      class_uid: 3002,
      category_uid: 3,
      activity_id: 1,
      type_uid: 300201,
      status_id: 2,
      status_detail: 'invalid_token',
      user: { name: 'unknown' },
    });
    const read = entries.find((e) => e.kind === 'access' && e.operation === 'audit.query')!;
    expect(event(read)).toMatchObject({ class_uid: 6003, activity_id: 2, type_uid: 600302 });
    const owner = entries.find((e) => e.operation === 'ownership.assign')!;
    expect(event(owner)).toMatchObject({ class_uid: 6003, activity_id: 3, resources: [{ type: 'application' }] });
    const tamper = entries.find((e) => e.kind === 'system')!;
    expect(event(tamper)).toMatchObject({ class_uid: 6003, activity_id: 99, type_uid: 600399, severity_id: 4 });
    const [signIn, signOut, approval] = alsoShaped(create).map(event);
    expect(signIn).toMatchObject({ class_uid: 3002, type_uid: 300201, status_id: 1, auth_protocol: 'OpenID Connect' });
    expect(signOut).toMatchObject({ class_uid: 3002, type_uid: 300202 });
    expect(approval).toMatchObject({ class_uid: 6003, type_uid: 600301 });
    expect(approval!.resources).toContainEqual({ type: 'approval_request', uid: expect.any(String) });
  });

  test('when an event breaks the schema, then the validator says where (it is no rubber stamp)', () => {
    const good = ocsfEvent(entries[0]!, PRODUCT);
    const { actor: _actor, ...noActor } = good;
    expect(schema.validate(noActor)).toContain('api_activity.actor: required');
    expect(schema.validate({ ...good, activity_id: 7, type_uid: 600307 })).toEqual([
      'api_activity.activity_id: 7 is not one of 0, 1, 2, 3, 4, 99',
    ]);
    expect(schema.validate({ ...good, type_uid: 600300 })).toContain(
      'type_uid: class_uid × 100 + activity_id expected',
    );
    expect(schema.validate({ ...good, src_endpoint: { ip: 'not-an-ip' } })).toContain(
      'api_activity.src_endpoint.ip: "not-an-ip" is not a valid ip_t',
    );
    expect(schema.validate({ ...good, invented: 1 })).toContain(
      'api_activity.invented: not an attribute of this class or object',
    );
  });
});
