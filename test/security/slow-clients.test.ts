import { connect, type Socket } from 'node:net';
import { allEntries } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { APP, waitFor } from './support';

/**
 * Slow-loris clients: headers or a body sent a few bytes at a time. HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS
 * must bound them as configured. (They did not: Node only checks them every connectionsCheckingInterval,
 * 30 s by default, so a 1 s headers timeout held a socket for up to 30 s. src/server.ts now checks every 500 ms.)
 */

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const CHECK_SLACK_MS = 800;

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startHarness({
    env: { HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) },
  });
  admin = tokenFor('admin', 'slow-admin');
});
afterAll(async () => {
  h.assertNoLeaks();
  await h.close();
});
beforeEach(() => h.simulator.clearRequests());

interface Dribble {
  socket: Socket;
  /** Resolves when the gateway closes the connection: what it answered and after how long. */
  closed: Promise<{ text: string; afterMs: number }>;
}

/** Opens a connection, writes `first`, then `drip` every 200 ms until the gateway closes it. */
function dribble(first: string, drip: string | null): Dribble {
  const { port, hostname } = new URL(h.gatewayUrl);
  const started = Date.now();
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.on('error', () => undefined);
  const timer = drip === null ? undefined : setInterval(() => socket.writable && socket.write(drip), 200);
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      h.responses.push({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), headers: {}, text }); // for assertNoLeaks
      resolve({ text, afterMs: Date.now() - started });
    }),
  );
  if (first) socket.write(first);
  return { socket, closed };
}

test('when a client sends its headers a line at a time and never finishes, then 408 and the connection is closed within HEADERS_TIMEOUT_MS', async () => {
  const { closed } = dribble('GET /v1/applications HTTP/1.1\r\nHost: gw\r\n', 'X-Slow: 1\r\n');
  const { text, afterMs } = await closed;
  expect(text).toMatch(/^HTTP\/1\.1 408 /);
  expect(afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
  expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + CHECK_SLACK_MS);
  expect(h.simulator.requests).toHaveLength(0);
});

test('when a client connects and sends nothing, then the connection is closed within HEADERS_TIMEOUT_MS', async () => {
  const { afterMs } = await dribble('', null).closed;
  expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + CHECK_SLACK_MS);
});

test('when a mutation body arrives a byte at a time, then 408 within REQUEST_TIMEOUT_MS, nothing is forwarded, and the refusal is recorded', async () => {
  const before = (await allEntries(h)).length;
  const head = `POST /v1/applications/${APP}/webhooks HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: 500\r\nX-Request-Id: slow-body-0001\r\n\r\n{"url":`;
  const { text, afterMs } = await dribble(head, ' ').closed;
  expect(text).toMatch(/^HTTP\/1\.1 408 /);
  expect(afterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
  expect(afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + CHECK_SLACK_MS);
  expect(h.simulator.requests).toHaveLength(0);
  // Authenticated and refused before forwarding: one decision entry, as for any refused mutation.
  // Written once the aborted body read reaches the error handler, just after the socket closed.
  const mine = async () => (await allEntries(h)).slice(before).filter((e) => e.clientRequestId === 'slow-body-0001');
  await waitFor(async () => (await mine()).length > 0, 3000, 'the decision entry');
  expect(
    (await mine()).map(
      (e) => `${e.kind}:${e.outcome}:${(e.details as { errors?: { reason?: string }[] })?.errors?.[0]?.reason}`,
    ),
  ).toEqual(['decision:invalid:request_aborted']);
});

test('when many slow clients hold connections, then a normal request is still served at once', async () => {
  const loris = Array.from({ length: 50 }, () =>
    dribble('GET /v1/applications HTTP/1.1\r\nHost: gw\r\n', 'X-Slow: 1\r\n'),
  );
  const started = Date.now();
  const res = await h.api().get('/v1/applications').set('Authorization', `Bearer ${admin}`);
  expect(res.status).toBe(200);
  expect(Date.now() - started).toBeLessThan(HEADERS_TIMEOUT_MS);
  const closed = await Promise.all(loris.map((l) => l.closed));
  expect(closed.filter((c) => c.afterMs >= HEADERS_TIMEOUT_MS + CHECK_SLACK_MS)).toEqual([]);
});
