import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/audit/trail/canonical-json';
import { entriesFor, tableAsText } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { rawRequest } from '../helpers/raw-request';
import { tokenFor } from '../helpers/tokens';

/**
 * Issue 18, findings 1 and 7; issue 13, item 9. A refused mutation's body is what an attacker controls most
 * freely: whatever it holds, the entry stored for it stays small and its secrets stay fingerprints.
 */

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const MAX_ENTRY_BYTES = 64 * 1024;
let h: Harness;
let editor: string;
beforeAll(async () => {
  h = await startHarness();
  editor = tokenFor('editor', 'eddie');
});
afterAll(async () => h.close());

const postRaw = (path: string, body: string, token = editor) =>
  rawRequest(
    h.gatewayUrl,
    'POST',
    path,
    [
      ['Authorization', `Bearer ${token}`],
      ['Content-Type', 'application/json'],
    ],
    Buffer.from(body),
  );
const storedBytes = async () =>
  (
    await h.gateway.database.prisma.$queryRawUnsafe<{ bytes: number }[]>(
      'SELECT max(octet_length(audit_entry::text))::int AS bytes FROM audit_entry',
    )
  )[0]!.bytes;

test('when a refused body repeats one credential value 50,000 times, then the entry holds one fingerprint and stays under 64 KiB', async () => {
  const res = await postRaw('/v1/applications', JSON.stringify({ token: new Array(50_000).fill(0) }));
  expect(res.status).toBe(400);
  const [entry] = await entriesFor(h, res.headers['x-request-id'] as string);
  expect(entry).toMatchObject({ kind: 'decision', outcome: 'invalid' });
  expect(entry!.fingerprints).toEqual([h.deps.audit.keys.fingerprint('0')]);
  expect(
    Buffer.byteLength(canonicalJson({ ...entry, seq: String(entry!.seq), hash: entry!.hash.toString('hex') })),
  ).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
  expect(await storedBytes()).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
});

test('when a refused body holds 15,000 distinct credential values, then the fingerprints are capped, the rest counted, and the body kept as size and SHA-256', async () => {
  const body = { token: Array.from({ length: 15_000 }, (_, i) => i) };
  const res = await postRaw('/v1/applications', JSON.stringify(body));
  expect(res.status).toBe(400);
  const [entry] = await entriesFor(h, res.headers['x-request-id'] as string);
  expect(entry!.fingerprints).toHaveLength(32);
  expect(new Set(entry!.fingerprints).size).toBe(32);
  expect(entry!.details).toMatchObject({ fingerprints_dropped: 15_000 - 32 });
  expect(entry!.requestBody).toEqual({
    omitted: true,
    reason: 'too large',
    bytes: expect.any(Number),
    sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
  });
  expect(await storedBytes()).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
});

test('when the body is dropped as too large, then the credentials in it still leave their fingerprints', async () => {
  const body = { name: 'x'.repeat(90_000), password: 'PLANTED-SECRET-1' };
  const res = await postRaw('/v1/applications', JSON.stringify(body));
  expect(res.status).toBe(400);
  const [entry] = await entriesFor(h, res.headers['x-request-id'] as string);
  expect(entry!.requestBody).toMatchObject({ omitted: true, reason: 'too large' });
  expect(entry!.fingerprints).toEqual([h.deps.audit.keys.fingerprint('PLANTED-SECRET-1')]);
  expect(await tableAsText(h)).not.toContain('PLANTED-SECRET-1');
});

test("when a body note is stored, then its SHA-256 is that of the redacted body and its size that body's", async () => {
  const body = { name: 'y'.repeat(40_000), description: 'z' };
  const res = await postRaw('/v1/applications', JSON.stringify(body));
  const [request] = await entriesFor(h, res.headers['x-request-id'] as string);
  const json = canonicalJson(body);
  expect(request!.requestBody).toEqual({
    omitted: true,
    reason: 'too large',
    bytes: Buffer.byteLength(json),
    sha256: createHash('sha256').update(json).digest('hex'),
  });
});

test.each([
  ['access_key', 'AK-SECRET-1'],
  ['pwd', 'PWD-SECRET-2'],
  ['jwt', 'JWT-SECRET-3'],
  ['private_key', 'PK-SECRET-4'],
  ['passwd', 'PASSWD-SECRET-5'],
  ['client_secret', 'CS-SECRET-6'],
  ['X-Amz-Credential', 'AMZ-SECRET-7'],
  ['refresh_token', 'RT-SECRET-8'],
])(
  'when a webhook URL carries a query parameter named %s, then its value is stored only as a fingerprint',
  async (name, secret) => {
    const res = await postRaw(
      `/v1/applications/${APP}/webhooks`,
      JSON.stringify({ url: `https://hooks.example.com/x?${name}=${secret}&page=2` }),
    );
    expect(res.status).toBe(201);
    const entries = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(entries.flatMap((e) => e.fingerprints)).toContain(h.deps.audit.keys.fingerprint(secret));
    expect((entries[0]!.requestBody as { url: string }).url).toMatch(
      /^https:\/\/hooks\.example\.com\/x\?.*redacted.*&page=2$/,
    );
    expect(await tableAsText(h)).not.toContain(secret);
  },
);

test('when a refused body has a __proto__ key and text that must be made storable, then the key is kept in the record', async () => {
  const res = await postRaw('/v1/applications', '{"name":"a\\u0000b","__proto__":{"planted":1}}');
  expect(res.status).toBe(400);
  const [entry] = await entriesFor(h, res.headers['x-request-id'] as string);
  expect(Object.keys(entry!.requestBody as object)).toEqual(expect.arrayContaining(['name', '__proto__']));
  expect(Object.getPrototypeOf(entry!.requestBody)).not.toEqual({ planted: 1 });
  expect((entry!.requestBody as Record<string, unknown>).name).toBe('a\uFFFDb');
});
