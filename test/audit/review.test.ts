import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS, csvField, csvValue } from '../../src/audit/review/export';
import { BACKENDS } from '../helpers/database';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { signToken, tokenFor } from '../helpers/tokens';
import { deleteWithApproval } from '../helpers/approvals';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

describe.each(BACKENDS)('reviewing the audit trail on %s', (backend) => {
  let h: Harness;
  let auditor: string;
  let deletedApp: string;
  let startedAt: string;
  let middle: string;

  beforeAll(async () => {
    h = await startHarness({ backend });
    auditor = tokenFor('auditor', 'rita');
    startedAt = new Date().toISOString();
    const ada = signToken({
      sub: 'ada',
      roles: ['admin'],
      claims: { name: 'Lovelace, Ada "the first" =Countess', email: 'ada@example.com', teams: ['platform'] },
    });
    const created = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${ada}`)
      .set('User-Agent', '=HYPERLINK("http://evil")')
      .send({ name: 'To delete' });
    deletedApp = created.body.id;
    await deleteWithApproval(h, `/v1/applications/${deletedApp}`, ada);
    middle = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await h
      .api()
      .delete(`/v1/applications/${APP}`)
      .set('Authorization', `Bearer ${tokenFor('viewer', 'vic')}`); // denied
    await h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('editor', 'ed')}`)
      .send({ url: 'nope' }); // invalid
    await deleteWithApproval(h, '/v1/applications/noSuchApplication', ada); // upstream 404
  }, 30_000);
  afterAll(async () => h.close());

  const events = async (query: string, token = auditor) => {
    const res = await h.api().get(`/v1/audit/events?${query}`).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions read the events as loose JSON
    return res.body as { events: Record<string, any>[]; next_cursor: string | null };
  };

  test('when a reviewer asks who deleted an application, then one event answers who, when, and whether it worked', async () => {
    const { events: found } = await events(`operation=applications.delete&application_id=${deletedApp}`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      kind: 'mutation',
      operation: 'applications.delete',
      actor: { sub: 'ada', email: 'ada@example.com', roles: ['admin'] },
      target: { application_id: deletedApp },
      outcome: 'success',
      upstream_status: 204,
      decision: 'allowed',
    });
    expect(found[0]!.entry_sequences).toHaveLength(2);
    expect(Date.parse(found[0]!.completed_at)).toBeGreaterThanOrEqual(Date.parse(found[0]!.time));
  });

  test('when an application was created, then filtering by its id finds the create too (the id came from the upstream)', async () => {
    const { events: found } = await events(`application_id=${deletedApp}&kind=mutation&order=asc`);
    expect(found.map((e) => e.operation)).toEqual(['applications.create', 'applications.delete']);
  });

  test.each([
    ['actor=vic', ['applications.delete'], ['denied']],
    ['decision=denied&kind=decision', ['applications.delete'], ['denied']],
    ['outcome=invalid', ['webhooks.create'], ['invalid']],
    ['outcome=upstream_error', ['applications.delete'], ['upstream_error']],
    ['actor=ada&outcome=success', ['applications.delete', 'applications.create'], ['success', 'success']],
    [
      'actor=ada&operation=applications.delete',
      ['applications.delete', 'applications.delete'],
      ['upstream_error', 'success'],
    ],
  ])(
    'when filtered by %s, then exactly the matching events come back, newest first',
    async (query, operations, outcomes) => {
      const { events: found } = await events(query);
      expect(found.map((e) => e.operation)).toEqual(operations);
      expect(found.map((e) => e.outcome)).toEqual(outcomes);
    },
  );

  test('when filtered by a time window and a request id, then only events inside it come back', async () => {
    const before = await events(`since=${startedAt}&until=${middle}&kind=mutation&order=asc`);
    expect(before.events.map((e) => e.operation)).toEqual(['applications.create', 'applications.delete']);
    const one = before.events[0]!;
    const byRequest = await events(`request_id=${one.request_id}`);
    expect(byRequest.events.map((e) => e.sequence)).toEqual([one.sequence]);
  });

  test('when an event is opened by any of its sequence numbers, then its raw request and response entries come with it', async () => {
    const { events: found } = await events(`operation=applications.delete&application_id=${deletedApp}`);
    const responseSeq = found[0]!.entry_sequences[1];
    const res = await h.api().get(`/v1/audit/events/${responseSeq}`).set('Authorization', `Bearer ${auditor}`);
    expect(res.status).toBe(200);
    expect(res.body.event.sequence).toBe(found[0]!.sequence);
    expect(res.body.entries.map((e: { kind: string }) => e.kind)).toEqual(['request', 'response']);
    expect(res.body.entries[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await h.api().get('/v1/audit/events/999999').set('Authorization', `Bearer ${auditor}`)).status).toBe(404);
  });

  test('when events are exported as CSV, then a real CSV parser reads every field back, quotes, commas and newlines included, and formulas are defused', async () => {
    const res = await h
      .api()
      .get('/v1/audit/events?format=csv&actor=ada&kind=mutation&order=asc')
      .set('Authorization', `Bearer ${auditor}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-events-\d{8}T\d{6}Z\.csv"$/);
    const rows = parse(res.text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.operation)).toEqual(['applications.create', 'applications.delete', 'applications.delete']);
    expect(rows[0]).toMatchObject({
      actor_name: 'Lovelace, Ada "the first" =Countess',
      user_agent: `'=HYPERLINK("http://evil")`,
      outcome: 'success',
      upstream_status: '201',
    });
    // The same events as JSON: each CSV cell is the presented field of its column (one spelling of an event's fields).
    const json = (await events('actor=ada&kind=mutation&order=asc')).events as Record<string, unknown>[];
    json.forEach((event, i) => {
      for (const column of CSV_COLUMNS) {
        const value = csvValue(event, column);
        expect({ column, defined: value !== undefined }).toEqual({ column, defined: true });
        expect({ column, cell: rows[i]![column] }).toEqual({
          column,
          cell: csvField(value).replace(/^"|"$/g, '').replace(/""/g, '"'),
        });
      }
    });
  });

  test('when events are exported as NDJSON through the Accept header, then each line is one event', async () => {
    const res = await h
      .api()
      .get('/v1/audit/events?actor=ada&kind=mutation')
      .set('Authorization', `Bearer ${auditor}`)
      .set('Accept', 'application/x-ndjson')
      .buffer(true)
      .parse((r, done) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => done(null, text));
      });
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = (res.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.actor.sub)).toEqual(['ada', 'ada', 'ada']);
  });

  test('when the trail is queried or exported, then who did it and with which filters is recorded', async () => {
    await events('actor=ada&outcome=success');
    const last = (await allEntries(h)).at(-1);
    expect(last).toMatchObject({
      kind: 'access',
      operation: 'audit.query',
      actorSub: 'rita',
      details: { filter: { actor: 'ada', outcome: 'success', order: 'desc', limit: 50 } },
    });
  });

  test('when a viewer or an editor tries to read the trail, then 403, and the attempt is recorded', async () => {
    for (const role of ['viewer', 'editor']) {
      const res = await h
        .api()
        .get('/v1/audit/events')
        .set('Authorization', `Bearer ${tokenFor(role, `nosy-${role}`)}`);
      expect(res.status).toBe(403);
      expect((await allEntries(h)).at(-1)).toMatchObject({
        kind: 'access',
        // Filed under the action refused (issue 23: one recorder, the catalogue's names).
        operation: 'audit.query',
        actorSub: `nosy-${role}`,
        decision: 'denied',
        errorCode: 'forbidden',
      });
    }
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['since=yesterday', 'since'],
    ['outcome=great', 'outcome'],
    ['key_fingerprint=abc', 'key_fingerprint'],
    ['cursor=bm9wZQ', 'cursor'],
    ['colour=red', ''],
  ])('when the query has %s, then 400 validation_failed', async (query, field) => {
    const res = await h.api().get(`/v1/audit/events?${query}`).set('Authorization', `Bearer ${auditor}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    if (field) expect(res.body.error.details[0].field).toBe(field);
  });
});
