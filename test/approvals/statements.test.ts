import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startHarness, type Harness } from '../helpers/harness';
import { own } from '../helpers/ownership';
import { canCountStatements, logStatements, statementsDuring } from '../helpers/statements';
import { tokenFor } from '../helpers/tokens';

/**
 * Issue 23: approving a request (the vote, the claim, the execution's entries and its final state) costs at most
 * five statements. Counted from the server's statement log, as bench/roundtrips.ts counts; needs the server Postgres
 * and its log (CI has both; elsewhere without them the test is skipped, and under CI=true it fails).
 */
const serverUrl = process.env.TEST_DATABASE_URL;
const runnable = Boolean(serverUrl) && canCountStatements();
if (process.env.CI === 'true' && !runnable)
  throw new Error('CI needs TEST_DATABASE_URL and the Postgres statement log to count statements');
const maybe = runnable ? describe : describe.skip;

maybe('the statements an approval costs', () => {
  let db: TestDatabase;
  let h: Harness;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await logStatements(serverUrl as string, new URL(db.url as string).pathname.slice(1));
    h = await startHarness({ database: db });
  });
  afterAll(async () => {
    await h.close();
    await db.drop();
  });

  test('when the last needed approval arrives, then the approving call sends at most 5 statements', async () => {
    const requester = tokenFor('admin', 'asks');
    const approver = tokenFor('admin', 'approves');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const app = h.simulator.store.createApplication({ name: `counted-${i}` });
      await own(h, app.id, 'demo');
      const asked = await h.api().delete(`/v1/applications/${app.id}`).set('Authorization', `Bearer ${requester}`);
      expect(asked.status).toBe(202);
      ids.push(asked.body.approval.id as string);
    }
    const approve = async (id: string) => {
      const res = await h.api().post(`/v1/approvals/${id}/approve`).set('Authorization', `Bearer ${approver}`).send({});
      expect(res.body.approval.state).toBe('executed');
    };
    await approve(ids.shift() as string); // warm: prepared statements, pools
    const name = new URL(db.url as string).pathname.slice(1);
    const statements = await statementsDuring(name, async () => {
      for (const id of ids) await approve(id);
    });
    expect(statements.length / ids.length).toBeLessThanOrEqual(5);
  });
});
