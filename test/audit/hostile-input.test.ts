import { randomUUID } from 'node:crypto';
import { systemEntry } from '../../src/audit/recording/recorder';
import { allEntries, entriesFor, tableAsText } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { rawRequest } from '../helpers/raw-request';
import { signToken, tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startHarness();
  admin = tokenFor('admin', 'ada');
});
afterAll(async () => h.close());

const post = (path: string, body: unknown, token = admin) =>
  h
    .api()
    .post(path)
    .set('Authorization', `Bearer ${token}`)
    .send(body as object);
const verify = async () =>
  (
    await h
      .api()
      .get('/v1/audit/verify')
      .set('Authorization', `Bearer ${tokenFor('auditor')}`)
  ).body;

test('when bodies carry NUL or unpaired surrogates, then they are refused with 400 and recorded, and mutations sent alongside are unaffected', async () => {
  const good = Array.from({ length: 20 }, (_, i) =>
    post(`/v1/applications/${APP}/webhooks`, { url: `https://hooks.example.com/ok/${i}` }),
  );
  const bad = [
    post('/v1/applications', { name: 'a\u0000b' }),
    post('/v1/applications', { name: 'x', description: 'lone \ud83d' }),
    post('/v1/applications', { name: 'x', bogus: '\u0000' }),
  ];
  const [goodResults, badResults] = await Promise.all([Promise.all(good), Promise.all(bad)]);
  expect(goodResults.map((r) => r.status)).toEqual(goodResults.map(() => 201));
  expect(badResults.map((r) => r.status)).toEqual([400, 400, 400]);
  expect(badResults[0]!.body.error.details[0].code).toBe('invalid_characters');
  for (const r of goodResults)
    expect((await entriesFor(h, r.headers['x-request-id'] as string)).map((e) => e.kind)).toEqual([
      'request',
      'response',
    ]);
  for (const r of badResults)
    expect((await entriesFor(h, r.headers['x-request-id'] as string)).map((e) => e.outcome)).toEqual(['invalid']);
  expect((await verify()).ok).toBe(true);
});

test('when a token claim holds an unpaired surrogate or NUL, then the token is refused before anything is recorded (issue 23, finding 6)', async () => {
  const token = signToken({
    sub: 'eve',
    roles: ['admin'],
    claims: { name: 'Eve \ud83d', email: 'e\u0000ve@example.com' },
  });
  const res = await post(`/v1/applications/${APP}/webhooks`, { url: 'https://hooks.example.com/eve' }, token);
  expect(res.status).toBe(401);
  expect(res.body.error.details[0].reason).toBe('invalid_claim_text');
  expect(await entriesFor(h, res.headers['x-request-id'] as string)).toEqual([]);
  expect((await verify()).ok).toBe(true);
});

test('when the database refuses one entry of a group commit, then only that entry fails', async () => {
  const entry = (eventId: string) => ({ ...systemEntry('test.batch'), eventId });
  const results = await Promise.allSettled([
    ...Array.from({ length: 5 }, () => h.deps.audit.store.append(entry(randomUUID()))),
    h.deps.audit.store.append(entry('not-a-uuid')),
  ]);
  expect(results.map((r) => r.status)).toEqual([
    'fulfilled',
    'fulfilled',
    'fulfilled',
    'fulfilled',
    'fulfilled',
    'rejected',
  ]);
  expect((await verify()).ok).toBe(true);
});

test.each([
  ['a URL with a leading space', { url: ' https://hooks.example.com/x?token=SECRET-A1' }, 'SECRET-A1'],
  ['a URL without slashes', { url: 'https:hooks.example.com/x?token=SECRET-A2' }, 'SECRET-A2'],
  ['a token in the fragment', { url: 'https://hooks.example.com/x#access_token=SECRET-A3' }, 'SECRET-A3'],
  ['a token as the user name', { url: 'https://SECRET-A4@hooks.example.com/x' }, 'SECRET-A4'],
  [
    'nested credentials in an invalid body',
    { url: 'https://hooks.example.com/x', password: { v: 'SECRET-A5' } },
    'SECRET-A5',
  ],
  ['a numeric token in an invalid body', { url: 'https://hooks.example.com/x', token: 98765432 }, '98765432'],
])('when a mutation carries %s, then the secret is stored only as a fingerprint', async (_label, body, secret) => {
  const res = await post(`/v1/applications/${APP}/webhooks`, body);
  expect([201, 400]).toContain(res.status);
  const entries = await entriesFor(h, res.headers['x-request-id'] as string);
  expect(entries.length).toBeGreaterThan(0);
  expect(entries.flatMap((e) => e.fingerprints)).toContain(h.deps.audit.keys.fingerprint(secret));
  expect(await tableAsText(h)).not.toContain(secret);
});

test('when an invalid body is nested thousands of levels deep, then it is refused with 400 and the refusal is recorded', async () => {
  const deep = `{"name":"x","a":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const res = await rawRequest(
    h.gatewayUrl,
    'POST',
    '/v1/applications',
    [
      ['Authorization', `Bearer ${admin}`],
      ['Content-Type', 'application/json'],
    ],
    Buffer.from(deep),
  );
  expect(res.status).toBe(400);
  const [entry] = await entriesFor(h, res.headers['x-request-id'] as string);
  expect(entry).toMatchObject({ kind: 'decision', outcome: 'invalid', requestBody: { omitted: true } });
});

test('when the request target is in absolute form, then the audit path holds no client-chosen host', async () => {
  const res = await rawRequest(
    h.gatewayUrl,
    'POST',
    'http://evil.example/v1/applications',
    [
      ['Authorization', `Bearer ${admin}`],
      ['Content-Type', 'application/json'],
    ],
    Buffer.from('{"name":"abs"}'),
  );
  expect(res.status).toBe(201);
  const [request] = await entriesFor(h, res.headers['x-request-id'] as string);
  expect(request?.path).toBe('/v1/applications');
});

test("when an editor creates an application from a source template, then it is refused: the template's keys would be copied", async () => {
  const editor = tokenFor('editor', 'ed');
  const refused = await post('/v1/applications', { name: 'copy', source: APP }, editor);
  expect(refused.status).toBe(403);
  expect(refused.body.error.details[0]).toMatchObject({
    permission: 'apikeys.create',
    operation: 'applications.create',
  });
  expect((await entriesFor(h, refused.headers['x-request-id'] as string))[0]).toMatchObject({
    outcome: 'denied',
    decision: 'denied',
  });
  expect((await post('/v1/applications', { name: 'plain' }, editor)).status).toBe(201);
  expect((await post('/v1/applications', { name: 'copy', source: APP })).status).toBe(201);
  expect((await allEntries(h)).length).toBeGreaterThan(0);
});
