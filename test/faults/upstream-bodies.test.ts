import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entriesFor } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { APP } from '../security/support';

/**
 * What the gateway does with an upstream body it cannot read as JSON. Decision: a 2xx whose body is not JSON is
 * refused (502 upstream_bad_response, reason not_json), because
 *  - it is not the Management API's answer (an intermediary's HTML page served with 200, a truncated body), and
 *  - API key values are masked by parsing the body: one that does not parse used to pass through unmasked, so a
 *    role without apikeys.reveal saw keys in full whenever the body had a BOM or a JSONP prefix (found by this file).
 * Error statuses (4xx/5xx) still pass through whatever their body: they carry no secrets and clients need them.
 */

const KEY = 'zK8vW3nQ5tR7yU1iO9pA2sD4fG6hJ0lX';
const LIST = Buffer.from(
  JSON.stringify({
    total: 1,
    count: 1,
    page: 1,
    objects: [{ key: KEY, created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z' }],
  }),
);

let reply: { status: number; contentType: string; body: Buffer } = {
  status: 200,
  contentType: 'application/json',
  body: LIST,
};
let upstream: Server;
let h: Harness;
const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({ roles: { 'key-viewer': { allow: ['apikeys.list', 'apikeys.create'] }, admin: { allow: ['*'] } } }),
);

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    res
      .writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': reply.body.length })
      .end(reply.body);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  h = await startHarness({
    env: {
      KLOUDLESS_API_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
      POLICY_FILE: policyFile,
    },
  });
});
afterAll(async () => {
  h.assertNoLeaks([KEY]);
  await h.close();
  upstream.close();
});

const viewer = () => tokenFor('key-viewer', 'key-viewer');
const list = () => h.api().get(`/v1/applications/${APP}/apikeys`).set('Authorization', `Bearer ${viewer()}`);

test('when the key list is plain JSON, then a role without apikeys.reveal sees the key masked (the baseline)', async () => {
  reply = { status: 200, contentType: 'application/json', body: LIST };
  const res = await list();
  expect(res.status).toBe(200);
  expect(res.body.objects[0].key).toBe(`****${KEY.slice(-4)}`);
});

test.each<[string, Buffer]>([
  ['a UTF-8 byte order mark before the JSON', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), LIST])],
  ['a JSONP/XSSI prefix', Buffer.concat([Buffer.from(")]}'\n"), LIST])],
  ['trailing bytes after the JSON', Buffer.concat([LIST, Buffer.from('\n<!-- served by edge-7 -->')])],
  ['a JSON stream of two documents', Buffer.concat([LIST, LIST])],
  ['an HTML page', Buffer.from('<html><body>Service Unavailable</body></html>')],
])('when a 200 carries %s, then 502 not_json and the key value never reaches the caller', async (_label, body) => {
  reply = { status: 200, contentType: 'application/json', body };
  const res = await list();
  expect(res.status).toBe(502);
  expect(res.body.error).toEqual(
    expect.objectContaining({ code: 'upstream_bad_response', details: [{ reason: 'not_json', upstream_status: 200 }] }),
  );
  expect(res.text).not.toContain(KEY);
});

test('when a create answers 201 with a body that is not JSON, then 502, and the audit entry keeps the 201 (the key may exist)', async () => {
  reply = {
    status: 201,
    contentType: 'application/json',
    body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ key: KEY }))]),
  };
  const res = await h.api().post(`/v1/applications/${APP}/apikeys`).set('Authorization', `Bearer ${viewer()}`);
  expect(res.status).toBe(502);
  expect(res.text).not.toContain(KEY);
  const [, response] = await entriesFor(h, res.headers['x-request-id'] as string);
  expect(response).toMatchObject({
    kind: 'response',
    outcome: 'upstream_bad_response',
    upstreamStatus: 201,
    errorCode: 'upstream_bad_response',
    details: { reason: 'not_json' },
  });
});

test('when a 200 has an empty body, then it passes through (nothing to misread)', async () => {
  reply = { status: 200, contentType: 'application/json', body: Buffer.alloc(0) };
  const res = await list();
  expect(res.status).toBe(200);
  expect(res.text).toBe('');
});

test('when an error status carries HTML, then status and body pass through unchanged, as documented for errors', async () => {
  reply = { status: 503, contentType: 'text/html', body: Buffer.from('<html><body>Maintenance</body></html>') };
  const res = await list();
  expect(res.status).toBe(503);
  expect(res.text).toBe('<html><body>Maintenance</body></html>');
  expect(res.headers['cache-control']).toBe('no-store');
});
