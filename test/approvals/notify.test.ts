import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNotifier } from '../../src/approvals/notify';
import type { Approval } from '../../src/approvals/store';
import { createLogger } from '../../src/http/logger';
import { LogCapture } from '../helpers/log-capture';

/** Notifications against a real HTTP receiver: retried a bounded number of times, never carrying input values. */
let server: Server;
let url: string;
let statuses: number[] = [];
const received: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => server.close());
beforeEach(() => (received.length = 0));

const approval: Approval = {
  id: '11111111-2222-4333-8444-555555555555',
  operation: 'apikeys.delete',
  method: 'DELETE',
  params: { application_id: 'app1', apikey_key: 'secret-key-value-1234' },
  query: {},
  body: { note: 'a body value' },
  inputHash: 'h',
  target: '/v1/applications/app1/apikeys/****1234',
  applicationId: 'app1',
  team: 'demo',
  requester: {
    issuer: 'https://idp.test/',
    sub: 'alice',
    email: null,
    name: 'Alice',
    roles: ['admin'],
    teams: ['demo'],
  },
  reason: 'rotation',
  state: 'pending',
  approvalsNeeded: 1,
  approverRoles: [],
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 3600_000),
  endedAt: null,
  endedBy: null,
  endReason: null,
  result: { status: null, body: null, error: null },
  votes: [],
};

test('when the receiver fails twice, then the third attempt delivers it, and no secret or body value is in it', async () => {
  statuses = [500, 503];
  const notifier = createNotifier({ url, logger: createLogger('silent'), backoffMs: 5 });
  notifier.notify('approval.requested', approval);
  await notifier.idle();
  expect(received).toHaveLength(3);
  const message = JSON.parse(received[2]!);
  expect(message).toMatchObject({
    event: 'approval.requested',
    approval: { id: approval.id, state: 'pending', requested_by: 'alice', team: 'demo' },
    text: expect.stringContaining('apikeys.delete'),
  });
  expect(received[2]).not.toContain('secret-key-value');
  expect(received[2]).not.toContain('a body value');
});

test('when the receiver keeps failing, then the gateway gives up after three attempts and says so at error level', async () => {
  statuses = [500, 500, 500, 500];
  const logs = new LogCapture();
  const notifier = createNotifier({ url, logger: createLogger('info', logs.stream), backoffMs: 5 });
  notifier.notify('approval.ended', { ...approval, state: 'denied' });
  await notifier.idle();
  expect(received).toHaveLength(3);
  expect(
    logs.lines.filter((l) => l.includes('approval notification given up')).map((l) => JSON.parse(l).level),
  ).toContain(50);
});

test('when no URL is configured, then nothing is sent', async () => {
  const notifier = createNotifier({ logger: createLogger('silent') });
  notifier.notify('approval.requested', approval);
  await notifier.idle();
  expect(received).toEqual([]);
});
