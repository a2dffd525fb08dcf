import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

/**
 * Issue 18, finding 5: times, sequences and cursors the database cannot represent were passed to it and came
 * back as 500. Each is now refused with 400 validation_failed naming the field, and the refused read is
 * recorded like any other (an `access` entry with the error code).
 */

let h: Harness;
let auditor: string;
beforeAll(async () => {
  h = await startHarness();
  auditor = tokenFor('auditor', 'rita');
});
afterAll(async () => h.close());

const cursorOf = (s: string, o = 'desc') => Buffer.from(JSON.stringify({ s, o })).toString('base64url');

test.each([
  ['/v1/audit/events?since=0000-01-01T00:00:00Z', 'since'],
  ['/v1/audit/events?until=0000-12-31T23:59:59Z', 'until'],
  ['/v1/audit/events?since=2026-01-01T00:00:00%2B16:00', 'since'],
  ['/v1/audit/events?since=2026-01-01T00:00:00-23:59', 'since'],
  ['/v1/audit/events?until=2026-02-30T00:00:00Z', 'until'],
  ['/v1/audit/events/9999999999999999999', 'sequence'],
  ['/v1/audit/events/9223372036854775808', 'sequence'],
  [`/v1/audit/events?cursor=${cursorOf('18446744073709551615')}`, 'cursor'],
  [`/v1/audit/events?cursor=${cursorOf('9223372036854775808')}`, 'cursor'],
])('when an auditor asks for %s, then 400 validation_failed on that field and an access entry', async (url, field) => {
  const res = await h.api().get(url).set('Authorization', `Bearer ${auditor}`);
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field })] });
  expect((await allEntries(h)).at(-1)).toMatchObject({
    kind: 'access',
    actorSub: 'rita',
    decision: 'denied',
    outcome: 'invalid',
    errorCode: 'validation_failed',
    requestId: res.body.error.request_id,
  });
});

test('when the largest sequence Postgres holds is asked for, then 404, not an error', async () => {
  const res = await h.api().get('/v1/audit/events/9223372036854775807').set('Authorization', `Bearer ${auditor}`);
  expect(res.status).toBe(404);
});

test('when times at the edges of what is valid are given, then the query runs', async () => {
  const res = await h
    .api()
    .get('/v1/audit/events?since=0001-01-01T00:00:00%2B15:59&until=9999-12-31T23:59:59.999999Z')
    .set('Authorization', `Bearer ${auditor}`);
  expect(res.status).toBe(200);
});
