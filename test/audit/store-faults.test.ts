import { randomUUID } from 'node:crypto';
import { createAuditKeys } from '../../src/audit/trail/keys';
import { createAuditRecorder, systemEntry } from '../../src/audit/recording/recorder';
import { createAuditStore, type AuditStore } from '../../src/audit/trail/store';
import { verifyChain } from '../../src/audit/review/chain-verify';
import { openDatabase, type Database } from '../../src/db/client';
import { applyMigrations } from '../../src/db/migrate';
import { createLogger } from '../../src/http/logger';
import { AuditUnavailable } from '../../src/audit/trail/write-failures';
import { sleep } from '../helpers/async';
import { createTestDatabase, SERVER_URL, type TestDatabase } from '../helpers/database';
import { AUDIT_HMAC_KEY } from '../helpers/harness';
import { LogCapture } from '../helpers/log-capture';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * The audit store's write path under database faults (issue 13, defects 5 and 6), on the store itself: a database
 * reached through a TCP proxy that can hang or cut a connection, and a second writer on a direct connection.
 */

const WRITE_TIMEOUT_MS = 400;
const describeWithServer = SERVER_URL ? describe : describe.skip;

describeWithServer('the audit store under database faults', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let proxied: Database;
  let direct: Database;
  const keys = createAuditKeys(AUDIT_HMAC_KEY);
  const logs = new LogCapture();

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const target = new URL(db.url!);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    target.host = `127.0.0.1:${proxy.port}`;
    direct = await openDatabase({ url: db.url, dataDir: db.dataDir, poolSize: 2, connectTimeoutMs: 5_000 });
    await applyMigrations(direct);
    proxied = await openDatabase({
      url: target.toString(),
      dataDir: db.dataDir,
      poolSize: 2,
      connectTimeoutMs: 5_000,
      lockTimeoutMs: 5_000,
    });
  }, 30_000);
  afterAll(async () => {
    proxy.setMode('pass');
    await proxied.close();
    await direct.close();
    await proxy.stop();
    await db.drop();
  });

  const storeOn = (database: Database) =>
    createAuditStore({ prisma: database.prisma, keys, writeTimeoutMs: WRITE_TIMEOUT_MS });
  const entry = (label: string, eventId: string = randomUUID()) => ({ ...systemEntry(`test.${label}`), eventId });
  const operations = async (store: AuditStore) => (await store.readChain(0n, 10_000)).map((e) => e.operation);
  const settle = <T>(promises: Promise<T>[]) =>
    Promise.allSettled(promises).then((results) => results.map((r) => r.status));

  test('when the flush loop has given up on a group and another writer took its place, then the group is not retried entry by entry: none of it appears', async () => {
    const store = storeOn(proxied);
    await store.append(entry('d5-warm')); // the head is known, the pool holds a connection
    proxy.holdRequestsContaining('INSERT INTO audit_entry');
    // One group (the loop that committed `d5-warm` is still running and takes all three), its INSERT held back.
    const given = [store.append(entry('d5-a')), store.append(entry('d5-b')), store.append(entry('d5-c'))];
    await sleep(WRITE_TIMEOUT_MS + 200); // the loop gives up on the group
    await storeOn(direct).append(entry('d5-other'));
    proxy.releaseHeld();
    // The INSERT chained to `d5-warm` and is refused by the primary key; the loop had given up on the group (its callers
    // were told), so none of it is appended again.
    expect(await settle(given)).toEqual(['rejected', 'rejected', 'rejected']);
    await store.append(entry('d5-after'));
    expect((await operations(store)).filter((o) => o?.startsWith('test.d5'))).toEqual([
      'test.d5-warm',
      'test.d5-other',
      'test.d5-after',
    ]);
    expect((await verifyChain(store, keys)).ok).toBe(true);
  });

  test('when another writer appended since this store last did, then the next group is chained to the new head and sent once more, without a locked transaction', async () => {
    const store = storeOn(proxied);
    await store.append(entry('chase-warm')); // this store knows the head
    await storeOn(direct).append(entry('chase-other')); // and another writer has moved it
    const inserts = proxy.countRequestsContaining('INSERT INTO audit_entry');
    const transactions = proxy.countRequestsContaining('pg_advisory_xact_lock');
    const appended = await store.append(entry('chase-after'));
    // The first statement found another head and inserted nothing; the second, chained to that head, inserted.
    expect([inserts(), transactions()]).toEqual([2, 0]);
    const chain = await store.readChain(0n, 10_000);
    expect(chain.map((e) => e.operation).filter((o) => o?.startsWith('test.chase'))).toEqual([
      'test.chase-warm',
      'test.chase-other',
      'test.chase-after',
    ]);
    expect(appended.seq).toBe(chain.at(-1)!.seq);
    expect((await verifyChain(store, keys)).ok).toBe(true);
  });

  test('when the connection drops after a group commit was sent, then its entries are in the trail exactly once', async () => {
    const store = storeOn(proxied);
    await store.append(entry('d6-warm'));
    // One group of three (the loop that committed `d6-warm` takes them together), whose answer is lost.
    // The append statement answers with a row whose first column is `inserted`: its description is in the reply.
    proxy.dropReplyContaining('inserted\0');
    const lost = [store.append(entry('d6-lost-0')), store.append(entry('d6-lost-1')), store.append(entry('d6-lost-2'))];
    const results = await settle(lost);
    await store.append(entry('d6-after'));
    const written = (await operations(store)).filter((o) => o?.startsWith('test.d6'));
    // The group whose answer was lost committed (the database had answered), and nothing was appended twice.
    expect(results).toEqual(['rejected', 'rejected', 'rejected']);
    expect(written.sort()).toEqual([
      'test.d6-after',
      'test.d6-lost-0',
      'test.d6-lost-1',
      'test.d6-lost-2',
      'test.d6-warm',
    ]);
    expect((await verifyChain(store, keys)).ok).toBe(true);
  });

  test('when the database refuses one entry of a group with a message that mentions a timeout or a connection, then only that entry fails', async () => {
    const store = storeOn(proxied);
    // Postgres quotes the refused value in its message; the value here reads like a connection failure.
    const refused = entry('d6-refused', 'connection-terminated-timeout');
    const results = await settle([
      store.append(entry('d6-ok-0')),
      store.append(entry('d6-ok-1')),
      store.append(refused),
      store.append(entry('d6-ok-2')),
    ]);
    expect(results).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  });

  test('when an entry is refused with a message that reads like a timeout, then the caller is told the write failed, not that it timed out', async () => {
    const recorder = createAuditRecorder(storeOn(proxied), keys, createLogger('error', logs.stream), WRITE_TIMEOUT_MS);
    const error = await recorder.commit(entry('d6-reason', 'statement timed out')).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AuditUnavailable);
    expect(error).toMatchObject({ reason: 'audit_write_failed' });
  });
});
