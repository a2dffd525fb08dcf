import { OPERATIONS, type Operation } from '../../src/catalogue/operations';
import { entriesFor } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { APP, sendRaw } from './support';

/**
 * Encoded traversal in every id position of every operation. Requests are sent with exact bytes (node:http,
 * not a URL parser that would resolve `%2e%2e` before sending). test/catalogue/validation.test.ts has one
 * example each of `..`, `%2F`, `%2e%2e` and `%252F`; this is the whole matrix.
 */

const PAYLOADS = [
  '..',
  '.',
  '..%2f',
  '..%2F..%2F..%2Fapplications',
  '%2e%2e',
  '%2E%2E%2f',
  '.%2e',
  '%2e.',
  '%252e%252e',
  '..%252f',
  '%25252e%25252e',
  '..%5c',
  '..\\',
  '%c0%ae%c0%ae',
  '%uff0e%uff0e',
  '..;',
  'a%00',
  '%20..',
  '@evil.example',
  'x%40evil.example',
  'a%3fb',
  'a%23b',
];

const VALID: Record<string, string> = { application_id: APP, webhook_id: '100', apikey_key: 'q1w2e3r4t5y6u7i8o9p0' };
const BODIES: Partial<Record<string, object>> = {
  'applications.update': { name: 'x' },
  'apikeys.create': {},
  'webhooks.create': { url: 'https://hooks.example.com/t' },
};

const CASES: [string, string, string, Operation][] = OPERATIONS.flatMap((operation) => {
  const params = [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  return params.flatMap((param) =>
    PAYLOADS.map((payload) => [operation.id, param, payload, operation] as [string, string, string, Operation]),
  );
});

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startHarness();
  admin = tokenFor('admin', 'traversal-admin');
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
beforeEach(() => h.simulator.clearRequests());

const pathFor = (operation: Operation, param: string, payload: string) =>
  `/v1${operation.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === param ? payload : (VALID[name] as string)))}`;

test(`the matrix covers every id position of every operation (${CASES.length} requests)`, () => {
  const positions = new Set(CASES.map(([id, param]) => `${id}:${param}`));
  expect(positions.size).toBe(13);
});

test.each(CASES)(
  'when %s gets %s = %s, then 400 invalid_id for that id and nothing forwarded',
  async (_id, param, payload, operation) => {
    const body = BODIES[operation.id];
    const headers: [string, string][] = [
      ['Authorization', `Bearer ${admin}`],
      ...(body ? [['Content-Type', 'application/json'] as [string, string]] : []),
    ];
    const res = await sendRaw(
      h,
      operation.method,
      pathFor(operation, param, payload),
      headers,
      body ? Buffer.from(JSON.stringify(body)) : undefined,
    );
    expect(res.status).toBe(400);
    const error = JSON.parse(res.text).error;
    expect(error.code).toBe('validation_failed');
    expect(error.details).toContainEqual(
      expect.objectContaining({ location: 'path', field: param, code: 'invalid_id' }),
    );
    expect(h.simulator.requests).toHaveLength(0);
    if (operation.mutates) {
      const entries = await entriesFor(h, res.headers['x-request-id'] as string);
      expect(entries.map((e) => `${e.kind}:${e.outcome}`)).toEqual(['decision:invalid']);
    }
  },
);

test('when the path goes up past /v1 with literal dot segments, then it matches no operation (404) and nothing is forwarded', async () => {
  for (const path of [
    '/v1/applications/../../admin',
    `/v1/applications/${APP}/../..`,
    '/v1/../v1/applications',
    '/v1/./applications',
  ]) {
    const res = await sendRaw(h, 'GET', path, [['Authorization', `Bearer ${admin}`]]);
    expect([400, 404]).toContain(res.status);
  }
  expect(h.simulator.requests).toHaveLength(0);
});
