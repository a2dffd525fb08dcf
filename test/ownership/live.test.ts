import { Client } from 'pg';
import { HEARTBEAT_SQL } from '../../src/db/listen';
import { createTestDatabase, SERVER_URL, type TestDatabase } from '../helpers/database';
import { startHarness, type Harness } from '../helpers/harness';
import { own, ownedApplication } from '../helpers/ownership';
import { canCountStatements, logStatements, statementsDuring } from '../helpers/statements';
import { TcpProxy } from '../helpers/tcp-proxy';
import { tokenFor } from '../helpers/tokens';
import { waitFor } from '../helpers/async';

/**
 * Issue 26: ownership held in memory, kept current by LISTEN/NOTIFY (migration *_application_owner_notify), read
 * from the database whenever the listener is not connected. A team-scoped read costs no statement while it is.
 */
const withPostgres = SERVER_URL ? describe : describe.skip;
const HEARTBEAT = { everyMs: 200, timeoutMs: 300 };

const viewer = (team: string) => tokenFor('viewer', `viewer-${team}`, [team]);
const read = (h: Harness, id: string, token: string) =>
  h.api().get(`/v1/applications/${id}`).set('Authorization', `Bearer ${token}`);
/** The server's statement log, less the listener's heartbeat (one every few seconds per instance, no request's). */
const counted = (lines: string[]) => lines.filter((l) => !l.includes(HEARTBEAT_SQL));

withPostgres('ownership in memory on a server Postgres', () => {
  let db: TestDatabase;
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    // Before any connection is opened: the setting applies to sessions started after it.
    if (canCountStatements()) await logStatements(SERVER_URL as string, new URL(db.url as string).pathname.slice(1));
    a = await startHarness({ database: db, seams: { ownershipHeartbeat: HEARTBEAT } });
    b = await startHarness({ database: db, seams: { ownershipHeartbeat: HEARTBEAT } });
    await Promise.all([a.gateway.ownership.whenLive(5_000), b.gateway.ownership.whenLive(5_000)]);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await db.drop();
  });

  const maybeCounted = canCountStatements() ? test : test.skip;
  maybeCounted(
    'when the listener is connected, then a team-scoped viewer reading its own application sends no statement',
    async () => {
      const id = await ownedApplication(a, 'north');
      const token = viewer('north');
      expect((await read(a, id, token)).status).toBe(200); // its own write, read afresh once
      const statements = await statementsDuring(new URL(db.url as string).pathname.slice(1), async () => {
        for (let i = 0; i < 20; i++) expect((await read(a, id, token)).status).toBe(200);
      });
      expect(counted(statements)).toEqual([]);
      // The count sees what a request does send: an editor's mutation (its two audit entries).
      const mutation = await statementsDuring(new URL(db.url as string).pathname.slice(1), async () => {
        const res = await a
          .api()
          .post(`/v1/applications/${id}/webhooks`)
          .set('Authorization', `Bearer ${tokenFor('editor', 'editor-north', ['north'])}`)
          .send({ url: 'https://hooks.example.com/live' });
        expect(res.status).toBe(201);
      });
      expect(counted(mutation).length).toBeGreaterThanOrEqual(2);
      // Another team's viewer is refused from memory too (its refusal is recorded: one audit entry, no owner read).
      expect((await read(a, id, viewer('south'))).status).toBe(404);
    },
  );

  test('when memory holds an owner that is no longer it, then the mutation decided on it is refused by its own request entry (503 owner_changed) and nothing is sent', async () => {
    const id = await ownedApplication(a, 'amber');
    expect((await a.gateway.ownership.ownerOf(id))?.team).toBe('amber');
    // Changed behind memory's back: announced with an older version than memory holds, so memory keeps 'amber'.
    await a.gateway.database.prisma.$executeRaw`
      UPDATE application_owner SET team = 'olive', assigned_seq = 0 WHERE application_id = ${id}`;
    await new Promise((r) => setTimeout(r, 200));
    expect((await a.gateway.ownership.ownerOf(id))?.team).toBe('amber');
    const sent = a.simulator.requests.length;
    const { seq: before } = (await a.deps.audit.store.latest())!;
    const res = await a
      .api()
      .post(`/v1/applications/${id}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('editor', 'editor-amber', ['amber'])}`)
      .send({ url: 'https://hooks.example.com/stale' });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'ownership_unavailable', details: [{ reason: 'owner_changed' }] });
    expect(res.headers['retry-after']).toBe('1');
    expect(a.simulator.requests.length).toBe(sent);
    // No request entry: only the refusal's decision entry.
    const after = await a.deps.audit.store.readChain(before, 10);
    expect(after.map((e) => [e.kind, e.errorCode])).toEqual([['decision', 'ownership_unavailable']]);
    // Memory reads that owner afresh: sent again, the request is decided on 'olive' (another team's: 404).
    expect((await a.gateway.ownership.ownerOf(id))?.team).toBe('olive');
    const again = await a
      .api()
      .post(`/v1/applications/${id}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('editor', 'editor-amber', ['amber'])}`)
      .send({ url: 'https://hooks.example.com/stale' });
    expect(again.status).toBe(404);
    expect(a.simulator.requests.length).toBe(sent);
  });

  test('when memory holds an owner that is no longer it, then an ownership transfer decided on it is refused (503 owner_changed) and the owner stays', async () => {
    const id = await ownedApplication(a, 'plum');
    expect((await a.gateway.ownership.ownerOf(id))?.team).toBe('plum'); // its own write, read afresh once
    await a.gateway.database.prisma.$executeRaw`
      UPDATE application_owner SET team = 'sage', assigned_seq = 0 WHERE application_id = ${id}`;
    await new Promise((r) => setTimeout(r, 200));
    expect((await a.gateway.ownership.ownerOf(id))?.team).toBe('plum');
    const moved = await a
      .api()
      .put(`/v1/ownership/applications/${id}`)
      .set('Authorization', `Bearer ${tokenFor('admin', 'owner-admin')}`)
      .send({ team: 'teal', allow_new_team: true });
    expect(moved.status).toBe(503);
    expect(moved.body.error.details).toEqual([{ reason: 'owner_changed' }]);
    const row = await a.gateway.database.prisma.applicationOwner.findUnique({ where: { applicationId: id } });
    expect(row?.team).toBe('sage');
    // Memory read it afresh: the same transfer, sent again, is made from the owner as it stands.
    const again = await a
      .api()
      .put(`/v1/ownership/applications/${id}`)
      .set('Authorization', `Bearer ${tokenFor('admin', 'owner-admin')}`)
      .send({ team: 'teal', allow_new_team: true });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ team: 'teal', previous_team: 'sage' });
  });

  // Each instance fronts a simulator of its own: both hold the seeded applications, under the same ids.
  const seeded = (i: number) => a.simulator.store.listApplications()[i]?.id as string;

  test('when one instance gives an application to a team, then the other sees it from its notification, without a read', async () => {
    const id = seeded(0);
    await own(a, id, 'east');
    await waitFor(async () => (await b.gateway.ownership.ownerOf(id))?.team === 'east', 2_000);
    expect(b.gateway.ownership.live()).toBe(true);
    expect((await read(b, id, viewer('east'))).status).toBe(200);

    await own(a, id, 'west'); // a transfer through the other instance
    await waitFor(async () => (await b.gateway.ownership.ownerOf(id))?.team === 'west', 2_000);
    expect((await read(b, id, viewer('east'))).status).toBe(404);
    expect((await read(b, id, viewer('west'))).status).toBe(200);
    const list = await b
      .api()
      .get('/v1/applications?page_size=100')
      .set('Authorization', `Bearer ${viewer('west')}`);
    expect(list.body.objects.map((o: { id: string }) => o.id)).toContain(id);
  });

  test('when the listening connection is cut, then reads go to the database (a change it missed is seen at once) until it is back and has read everything again', async () => {
    const id = seeded(1);
    await own(a, id, 'red');
    await waitFor(async () => (await b.gateway.ownership.ownerOf(id))?.team === 'red', 2_000);
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      const cut = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'kloudless-gateway-listen'`,
      );
      expect(cut.rowCount).toBe(2); // both instances' listeners
    } finally {
      await admin.end();
    }
    await waitFor(async () => !b.gateway.ownership.live(), 2_000);
    // Made while nobody listens: no notification will ever tell b.
    await own(a, id, 'blue');
    expect((await read(b, id, viewer('blue'))).status).toBe(200);
    expect((await read(b, id, viewer('red'))).status).toBe(404);
    // Back (after the first retry's wait) with the whole projection read again: the missed change included.
    await b.gateway.ownership.whenLive(5_000);
    expect((await b.gateway.ownership.ownerOf(id))?.team).toBe('blue');
    expect((await read(b, id, viewer('blue'))).status).toBe(200);
  });
});

withPostgres('ownership when the listener hangs', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let h: Harness;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const target = new URL(db.url as string);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const port = await proxy.start();
    const proxied = new URL(db.url as string);
    proxied.port = String(port);
    h = await startHarness({
      database: { ...db, url: proxied.toString() },
      env: { AUDIT_WRITE_TIMEOUT_MS: '500' },
      seams: { ownershipHeartbeat: HEARTBEAT },
    });
    await h.gateway.ownership.whenLive(5_000);
  });
  afterAll(async () => {
    proxy.setMode('pass');
    await h.close();
    await proxy.stop();
    await db.drop();
  });

  test('when the database stops answering, then the heartbeat stops trusting memory and a team-scoped read is refused (503), never answered from memory', async () => {
    const id = await ownedApplication(h, 'green');
    expect((await read(h, id, viewer('green'))).status).toBe(200);
    proxy.setMode('hang');
    await waitFor(async () => !h.gateway.ownership.live(), 3_000);
    const refused = await read(h, id, viewer('green'));
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('ownership_unavailable');
    proxy.setMode('pass');
    await h.gateway.ownership.whenLive(20_000);
    expect((await read(h, id, viewer('green'))).status).toBe(200);
  });
});

describe('ownership in memory on the embedded database', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ backend: 'embedded' });
    await h.gateway.ownership.whenLive(5_000);
  });
  afterAll(async () => h.close());

  test('when an application changes hands, then PGlite delivers the notification in the process and memory follows', async () => {
    const id = await ownedApplication(h, 'north');
    expect((await read(h, id, viewer('north'))).status).toBe(200);
    await own(h, id, 'south');
    expect(h.gateway.ownership.live()).toBe(true);
    expect((await read(h, id, viewer('north'))).status).toBe(404);
    expect((await read(h, id, viewer('south'))).status).toBe(200);
    // A change this instance did not commit (written straight to the table) reaches memory only as a notification.
    await h.gateway.database.prisma.$executeRaw`
      UPDATE application_owner SET team = 'east', assigned_seq = assigned_seq + 1000 WHERE application_id = ${id}`;
    await waitFor(async () => (await h.gateway.ownership.ownerOf(id))?.team === 'east', 2_000);
    expect(h.gateway.ownership.live()).toBe(true);
  });
});
