import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entriesFor } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { COUNTER_STORES, redisEnv } from '../helpers/redis';
import { TEST_ISSUER, tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.yaml');
writeFileSync(
  policyFile,
  [
    'roles:',
    '  viewer:',
    '    allow: [applications.get, webhooks.list]',
    '  editor:',
    '    allow: [applications.get, webhooks.create]',
    '  bulk-reader:',
    '    allow: [applications.get]',
    '    rate_limit: { reads: 8 }',
    '',
  ].join('\n'),
);

describe.each(COUNTER_STORES)('per-person rate limits with counters in %s', (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: {
        ...redisEnv(store),
        RATE_LIMIT_READS: '3',
        RATE_LIMIT_WRITES: '2',
        RATE_LIMIT_WINDOW_S: '60',
        POLICY_FILE: policyFile,
      },
    });
  }, 30_000);
  afterAll(async () => h.close());
  beforeEach(() => h.simulator.clearRequests());

  // A read that is always forwarded (a team's list is served from the gateway's directory).
  const list = (token: string) => h.api().get(`/v1/applications/${APP}`).set('Authorization', `Bearer ${token}`);
  const createHook = (token: string) =>
    h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${token}`)
      .send({ url: 'https://hooks.example.com/rl' });

  test('when one person exhausts their reads, then they get 429 and another person is unaffected', async () => {
    const alice = tokenFor('viewer', `alice-${store}`);
    const bob = tokenFor('viewer', `bob-${store}`);
    for (let i = 0; i < 3; i++) expect((await list(alice)).status).toBe(200);
    const limited = await list(alice);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', details: [{ reason: 'reads_budget_exhausted' }] });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers['ratelimit-policy']).toMatch(/^"reads"; q=3; w=60/);
    expect(limited.headers.ratelimit).toMatch(/^"reads"; r=0; t=\d+/);
    expect(h.simulator.requests).toHaveLength(3);
    expect((await list(bob)).status).toBe(200);
  });

  test('every counted answer carries the draft-8 headers, the partition key being the hash of the caller as express-rate-limit writes it', async () => {
    const sub = `carol-${store}`;
    // Counted per person: the pair of issuer and subject (src/auth/person.ts).
    const key = JSON.stringify([TEST_ISSUER, sub]);
    const pk = Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
    const first = await list(tokenFor('viewer', sub));
    const second = await list(tokenFor('viewer', sub));
    expect(first.status).toBe(200);
    const policy = (res: typeof first) => String(res.headers['ratelimit-policy']).split(', ');
    const limit = (res: typeof first) => String(res.headers.ratelimit).split(', ');
    expect(policy(first)[0]).toBe(`"reads"; q=3; w=60; pk=:${pk}:`);
    expect(limit(first)[0]).toMatch(/^"reads"; r=2; t=(60|59)$/);
    expect(limit(second)[0]).toMatch(/^"reads"; r=1; t=\d+$/);
    expect(policy(second)[0]).toBe(policy(first)[0]);
  });

  test('when a person has used up their reads, then their mutations have a budget of their own, and the 3rd write is refused, recorded and not forwarded', async () => {
    const erin = tokenFor('editor', `erin-${store}`);
    for (let i = 0; i < 3; i++) await list(erin);
    expect((await list(erin)).status).toBe(429);
    expect((await createHook(erin)).status).toBe(201);
    expect((await createHook(erin)).status).toBe(201);
    const refused = await createHook(erin);
    expect(refused.status).toBe(429);
    expect(refused.body.error.details[0].reason).toBe('writes_budget_exhausted');
    expect(h.simulator.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    const entries = await entriesFor(h, refused.headers['x-request-id'] as string);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      kind: 'decision',
      outcome: 'rate_limited',
      errorCode: 'rate_limited',
      operation: 'webhooks.create',
    });
  });

  test('when a role raises the read budget in the policy file, then its holders get that budget', async () => {
    const bulk = tokenFor('bulk-reader', `bulk-${store}`);
    const statuses = [];
    for (let i = 0; i < 9; i++) statuses.push((await list(bulk)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
  });
});

test('when the window passes, then the person may call again (Retry-After is honest)', async () => {
  const h = await startHarness({ env: { RATE_LIMIT_READS: '1', RATE_LIMIT_WINDOW_S: '1' } });
  try {
    const token = tokenFor('viewer', 'patient');
    expect((await h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const limited = await h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  } finally {
    await h.close();
  }
});
