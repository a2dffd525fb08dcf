import { parse } from 'csv-parse/sync';
import { systemEntry } from '../../src/audit/recording/recorder';
import { randomUUID } from 'node:crypto';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

let h: Harness;
let auditor: string;
beforeAll(async () => {
  // The seed appends all at once: more than the default AUDIT_QUEUE_LIMIT may wait.
  h = await startHarness({ env: { AUDIT_QUEUE_LIMIT: '4096' } });
  auditor = tokenFor('auditor', 'pager');
  // 2,500 events written straight to the trail (as many mutations would, only faster).
  await Promise.all(
    Array.from({ length: 2500 }, (_, i) =>
      h.deps.audit.store.append({
        ...systemEntry('test.seed'),
        kind: 'decision',
        eventId: randomUUID(),
        requestId: `seed-${i}`,
        actorSub: 'seeder',
        operation: 'webhooks.create',
        outcome: 'invalid',
      }),
    ),
  );
}, 60_000);
afterAll(async () => h.close());

const page = async (query: string) =>
  (await h.api().get(`/v1/audit/events?${query}`).set('Authorization', `Bearer ${auditor}`)).body as {
    events: { request_id: string; sequence: string }[];
    next_cursor: string | null;
  };

test.each(['desc', 'asc'])(
  'when paging %s through every event while new ones are written, then each existing event comes back exactly once',
  async (order) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let writer = 0;
    do {
      const body = await page(`actor=seeder&limit=300&order=${order}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.events.map((e) => e.request_id));
      cursor = body.next_cursor;
      pages++;
      // Meanwhile the trail grows.
      await h.deps.audit.store.append({
        ...systemEntry('test.seed'),
        kind: 'decision',
        eventId: randomUUID(),
        requestId: `late-${order}-${writer++}`,
        actorSub: 'seeder',
        operation: 'webhooks.create',
        outcome: 'invalid',
      });
    } while (cursor);
    const seeded = seen.filter((id) => id.startsWith('seed-'));
    expect(new Set(seeded).size).toBe(2500);
    expect(seeded).toHaveLength(2500);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(9);
  },
);

test('when an export spans several internal pages, then every matching event is streamed once', async () => {
  const res = await h
    .api()
    .get('/v1/audit/events?format=csv&actor=seeder&operation=webhooks.create')
    .set('Authorization', `Bearer ${auditor}`);
  const rows = parse(res.text, { columns: true }) as { request_id: string }[];
  const seeded = rows.filter((r) => r.request_id.startsWith('seed-'));
  expect(seeded).toHaveLength(2500);
  expect(new Set(rows.map((r) => r.request_id)).size).toBe(rows.length);
});
