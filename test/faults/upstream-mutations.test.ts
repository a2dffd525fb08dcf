import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fault } from '../../src/simulator/server';
import { entriesFor } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { APP } from '../security/support';

/**
 * Every upstream fault against every kind of mutation: each maps to the status the README's Forwarding table
 * documents, a mutation is sent once and never retried, and the audit response entry says what happened.
 * test/upstream/upstream-faults.test.ts covers the same faults for reads and a reset POST.
 */

let h: Harness;
let admin: string;
let elsewhere: Server;
let elsewhereUrl: string;
const elsewhereHits: string[] = [];

beforeAll(async () => {
  elsewhere = createServer((req, res) => {
    elsewhereHits.push(`${req.method} ${req.url}`);
    res.end('{}');
  });
  await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
  elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/steal`;
  h = await startHarness({ env: { UPSTREAM_TIMEOUT_MS: '300', UPSTREAM_MAX_RESPONSE_BYTES: '65536' } });
  admin = tokenFor('admin', 'faults-admin');
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
  elsewhere.close();
});
beforeEach(() => {
  h.simulator.setFault(null);
  h.simulator.clearRequests();
});

type Mutation = [label: string, method: 'post' | 'patch' | 'delete', path: string, body: object | undefined];
const MUTATIONS: Mutation[] = [
  ['POST webhooks.create', 'post', `/v1/applications/${APP}/webhooks`, { url: 'https://hooks.example.com/fault' }],
  ['PATCH applications.update', 'patch', `/v1/applications/${APP}`, { description: 'under fault' }],
  ['DELETE webhooks.delete', 'delete', `/v1/applications/${APP}/webhooks/100`, undefined],
];

interface Expected {
  status: number;
  /** The gateway's envelope code and reason; undefined: the upstream's answer passes through. */
  code?: string;
  reason?: string;
  outcome: string;
  upstreamStatus: number | null;
  /** How many times the upstream saw the request (more than 1 only when it redirected within its origin). */
  sent: number;
}

const FAULTS: [string, () => Fault, Expected][] = [
  [
    'a reset before any answer',
    () => ({ kind: 'reset' }),
    {
      status: 502,
      code: 'upstream_unavailable',
      reason: 'connection_reset',
      outcome: 'upstream_unavailable',
      upstreamStatus: null,
      sent: 1,
    },
  ],
  // The status line had arrived: the entry keeps it, since after a 2xx the change may well have been made.
  [
    'a reset in the middle of the body',
    () => ({ kind: 'reset-mid-body' }),
    {
      status: 502,
      code: 'upstream_unavailable',
      reason: 'connection_reset',
      outcome: 'upstream_unavailable',
      upstreamStatus: 200,
      sent: 1,
    },
  ],
  [
    'no answer within UPSTREAM_TIMEOUT_MS',
    () => ({ kind: 'delay', ms: 1500 }),
    {
      status: 504,
      code: 'upstream_timeout',
      reason: 'deadline_exceeded',
      outcome: 'upstream_timeout',
      upstreamStatus: null,
      sent: 1,
    },
  ],
  [
    'a 200 whose body is not JSON',
    () => ({ kind: 'garbage' }),
    {
      status: 502,
      code: 'upstream_bad_response',
      reason: 'not_json',
      outcome: 'upstream_bad_response',
      upstreamStatus: 200,
      sent: 1,
    },
  ],
  [
    'a body over UPSTREAM_MAX_RESPONSE_BYTES',
    () => ({ kind: 'oversized', bytes: 200_000 }),
    {
      status: 502,
      code: 'upstream_bad_response',
      reason: 'response_too_large',
      outcome: 'upstream_bad_response',
      upstreamStatus: 200,
      sent: 1,
    },
  ],
  [
    'a 500',
    () => ({ kind: 'status', status: 500 }),
    { status: 500, outcome: 'upstream_error', upstreamStatus: 500, sent: 1 },
  ],
  [
    'a 503 with Retry-After',
    () => ({ kind: 'status', status: 503, headers: { 'retry-after': '7' } }),
    { status: 503, outcome: 'upstream_error', upstreamStatus: 503, sent: 1 },
  ],
  [
    'a 302 redirect',
    () => ({ kind: 'redirect', status: 302, location: '/v1/applications/' }),
    {
      status: 502,
      code: 'upstream_bad_response',
      reason: 'redirected_mutation',
      outcome: 'upstream_bad_response',
      upstreamStatus: null,
      sent: 1,
    },
  ],
  [
    'a 307 redirect loop',
    () => ({ kind: 'redirect', status: 307, location: '/v1/applications/' }),
    {
      status: 502,
      code: 'upstream_bad_response',
      reason: 'too_many_redirects',
      outcome: 'upstream_bad_response',
      upstreamStatus: null,
      sent: 4,
    },
  ],
  [
    'a 307 redirect to another origin',
    () => ({ kind: 'redirect', status: 307, location: elsewhereUrl }),
    {
      status: 502,
      code: 'upstream_bad_response',
      reason: 'cross_origin_redirect',
      outcome: 'upstream_bad_response',
      upstreamStatus: null,
      sent: 1,
    },
  ],
];

const CASES = FAULTS.flatMap(([fault, make, expected]) =>
  MUTATIONS.map((m) => [m[0], fault, m, make, expected] as const),
);

test.each(CASES)(
  'when %s meets %s, then a documented answer, one attempt, and an audit outcome that says so',
  async (_label, _fault, [, method, path, body], make, expected) => {
    h.simulator.setFault(make());
    const req = h.api()[method](path).set('Authorization', `Bearer ${admin}`);
    const res = body ? await req.send(body) : await req;

    expect(res.status).toBe(expected.status);
    if (expected.code) {
      const upstreamStatus = expected.upstreamStatus === null ? {} : { upstream_status: expected.upstreamStatus };
      expect(res.body.error).toEqual(
        expect.objectContaining({ code: expected.code, details: [{ reason: expected.reason, ...upstreamStatus }] }),
      );
      expect(res.body.error.request_id).toBe(res.headers['x-request-id']);
    } else {
      expect(res.body).toMatchObject({ status_code: expected.status, error_code: 'simulated_fault' });
    }
    if (expected.status === 503) expect(res.headers['retry-after']).toBe('7');
    expect(h.simulator.requests).toHaveLength(expected.sent);
    expect(new Set(h.simulator.requests.map((r) => r.method))).toEqual(new Set([method.toUpperCase()]));
    expect(elsewhereHits).toEqual([]);

    const entries = await entriesFor(h, res.headers['x-request-id'] as string);
    expect(entries.map((e) => e.kind)).toEqual(['request', 'response']);
    expect(entries[1]).toMatchObject({
      outcome: expected.outcome,
      errorCode: expected.code ?? null,
      upstreamStatus: expected.upstreamStatus,
      details: expected.code ? { reason: expected.reason } : null,
    });
  },
);

describe('reads under the faults the read tests do not cover', () => {
  test.each<[string, string, Fault, number]>([
    ['a reset in the middle of the body', 'connection_reset', { kind: 'reset-mid-body' }, 1],
    ['a 200 whose body is not JSON', 'not_json', { kind: 'garbage' }, 1],
    ['a reset on every attempt (a GET is retried once)', 'connection_reset', { kind: 'reset' }, 2],
  ])('when a GET meets %s, then 502 %s', async (_label, reason, fault, sent) => {
    h.simulator.setFault(fault);
    const res = await h.api().get('/v1/applications').set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(502);
    expect(res.body.error.details[0].reason).toBe(reason);
    expect(h.simulator.requests).toHaveLength(sent);
  });
});

describe('when the upstream refuses connections', () => {
  test.each(MUTATIONS)(
    'then %s answers 502 connection_refused, and its outcome is recorded',
    async (_label, method, path, body) => {
      const port = Number(new URL(h.simulator.url).port);
      await h.simulator.close();
      try {
        const req = h.api()[method](path).set('Authorization', `Bearer ${admin}`);
        const res = body ? await req.send(body) : await req;
        expect(res.status).toBe(502);
        expect(res.body.error).toMatchObject({
          code: 'upstream_unavailable',
          details: [{ reason: 'connection_refused' }],
        });
        const entries = await entriesFor(h, res.headers['x-request-id'] as string);
        expect(entries[1]).toMatchObject({
          kind: 'response',
          outcome: 'upstream_unavailable',
          errorCode: 'upstream_unavailable',
          details: { reason: 'connection_refused' },
        });
      } finally {
        await h.simulator.listen(port, '127.0.0.1');
      }
    },
  );
});
