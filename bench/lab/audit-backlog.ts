/**
 * What a slow audit database costs in writes (issue 13, defect 4). The gateway's audit INSERTs are held in a TCP
 * proxy for `holdMs` while `clients` keep sending mutations (each refused with 503 after AUDIT_WRITE_TIMEOUT_MS); then
 * the database answers. Counted: the refused mutations, and the entries written for them afterwards (request entries
 * that committed late, and the `not_forwarded` entries that complete them). Fewer is better: each is a write the
 * struggling database did for a caller already told no.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/lab/audit-backlog.ts [holdMs] [clients]
 */
import { createTestDatabase } from '../../test/helpers/database';
import { startHarness } from '../../test/helpers/harness';
import { TcpProxy } from '../../test/helpers/tcp-proxy';
import { tokenFor } from '../../test/helpers/tokens';
import { exitWhenDone } from './ab';

const WRITE_TIMEOUT_MS = 500;

exitWhenDone(async () => {
  const holdMs = Number(process.argv[2] ?? 3000);
  const clients = Number(process.argv[3] ?? 50);
  const db = await createTestDatabase('postgres');
  const target = new URL(db.url!);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
  target.host = `127.0.0.1:${proxy.port}`;
  const h = await startHarness({
    database: { ...db, url: target.toString() },
    env: { LOG_LEVEL: 'silent', AUDIT_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS) },
  });
  const admin = tokenFor('admin', 'bench-backlog');
  const create = (name: string) =>
    h.api().post('/v1/applications').set('Authorization', `Bearer ${admin}`).send({ name });
  await create('warm');
  const before = (await h.deps.audit.store.latest())?.seq ?? 0n;

  proxy.holdRequestsContaining('INSERT INTO audit_entry');
  const until = Date.now() + holdMs;
  const refused: string[] = [];
  const reasons = new Map<string, number>();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; Date.now() < until; i++) {
        const res = await create(`held ${c}-${i}`);
        if (res.status !== 503) throw new Error(`expected 503 while the database is held, got ${res.status}`);
        refused.push(res.headers['x-request-id'] as string);
        const reason = res.body.error.details[0].reason as string;
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    }),
  );
  proxy.releaseHeld();
  // Until every late commit and its completion are in: the trail stops growing.
  let last = -1n;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2 * WRITE_TIMEOUT_MS));
    const head = (await h.deps.audit.store.latest())?.seq ?? 0n;
    if (head === last) break;
    last = head;
  }
  const written = await h.deps.audit.store.readChain(before, 1_000_000);
  const ids = new Set(refused);
  const forRefused = written.filter((e) => ids.has(e.requestId));
  const verify = await h.api().get('/v1/audit/verify').set('Authorization', `Bearer ${admin}`);
  process.stdout.write(
    [
      `audit INSERTs held ${holdMs} ms, ${clients} clients, AUDIT_WRITE_TIMEOUT_MS ${WRITE_TIMEOUT_MS}`,
      `refused mutations: ${refused.length} (${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')})`,
      `entries written afterwards for refused mutations: ${forRefused.length} (request ${forRefused.filter((e) => e.kind === 'request').length}, not_forwarded ${forRefused.filter((e) => e.outcome === 'not_forwarded').length})`,
      `entries per refused mutation: ${(forRefused.length / Math.max(1, refused.length)).toFixed(3)}; chain verifies: ${verify.body.ok}`,
      '',
    ].join('\n'),
  );
  await h.close();
  await proxy.stop();
  await db.drop();
});
