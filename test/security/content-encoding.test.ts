import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { allEntries, entriesFor } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { rawRequest } from '../helpers/raw-request';
import { tokenFor } from '../helpers/tokens';

/**
 * Issue 18, finding 4: a body whose bytes are not what its Content-Encoding says was a 500 with no audit entry,
 * though every refused mutation must leave one. Now 400 invalid_content_encoding and a `decision` entry (or, on
 * an audit route, an `access` entry). Well-formed compressed bodies still work.
 */

let h: Harness;
let editor: string;
beforeAll(async () => {
  h = await startHarness();
  editor = tokenFor('editor', 'eddie');
});
afterAll(async () => h.close());

const body = Buffer.from(JSON.stringify({ name: 'compressed' }));
const send = (path: string, encoding: string, bytes: Buffer, token = editor) =>
  rawRequest(
    h.gatewayUrl,
    'POST',
    path,
    [
      ['Authorization', `Bearer ${token}`],
      ['Content-Type', 'application/json'],
      ['Content-Encoding', encoding],
    ],
    bytes,
  );

test.each([
  ['gzip', 'bytes that are not gzip', Buffer.from('definitely not gzip data')],
  ['gzip', 'a truncated stream', gzipSync(body).subarray(0, 12)],
  ['deflate', 'bytes that are not deflate', Buffer.from('\x78\x9c garbage garbage')],
  ['deflate', 'a truncated stream', deflateSync(body).subarray(0, 6)],
  ['br', 'bytes that are not brotli', Buffer.from('\xff\xff\xff\xff not brotli')],
  [
    'br',
    'a truncated stream',
    brotliCompressSync(Buffer.from(JSON.stringify({ name: 'x'.repeat(5000) }))).subarray(0, 10),
  ],
])(
  'when a mutation says Content-Encoding %s and sends %s, then 400 invalid_content_encoding and a decision entry',
  async (encoding, _what, bytes) => {
    const res = await send('/v1/applications', encoding, bytes);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatchObject({
      code: 'invalid_content_encoding',
      details: [{ reason: 'body_not_decodable', encoding }],
    });
    expect(await entriesFor(h, res.headers['x-request-id'] as string)).toEqual([
      expect.objectContaining({
        kind: 'decision',
        outcome: 'invalid',
        errorCode: 'invalid_content_encoding',
        actorSub: 'eddie',
      }),
    ]);
  },
);

test('when a lookup of a leaked key sends a corrupt gzip body, then 400 invalid_content_encoding and an access entry', async () => {
  const res = await send('/v1/audit/lookup-key', 'gzip', Buffer.from('not gzip at all'), tokenFor('auditor', 'rita'));
  expect(res.status).toBe(400);
  expect(JSON.parse(res.text).error.code).toBe('invalid_content_encoding');
  expect((await allEntries(h)).at(-1)).toMatchObject({
    kind: 'access',
    operation: 'audit.lookup_key',
    errorCode: 'invalid_content_encoding',
    actorSub: 'rita',
  });
});

test.each([
  ['gzip', gzipSync(body)],
  ['deflate', deflateSync(body)],
  ['br', brotliCompressSync(body)],
])('when a mutation sends a well-formed %s body, then it is served', async (encoding, bytes) => {
  const res = await send('/v1/applications', encoding, bytes);
  expect(res.status).toBe(201);
  expect(JSON.parse(res.text).name).toBe('compressed');
});
