import { ENTRY_COLUMNS, fromRow, SELECT_LIST } from '../../src/audit/trail/columns';
import { leafRecord } from '../../src/audit/log/leaf';
import { BACKENDS } from '../helpers/database';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

describe.each(BACKENDS)('the audit columns table on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ backend });
  }, 30_000);
  afterAll(async () => h.close());

  test('when the migrated audit_entry table is read, then it has exactly the columns of src/audit/trail/columns.ts, with their types', async () => {
    const rows = await h.gateway.database.prisma.$queryRaw<{ name: string; type: string }[]>`
      SELECT column_name AS name, CASE WHEN data_type = 'ARRAY' THEN replace(udt_name, '_', '') || '[]'
        WHEN data_type LIKE 'timestamp with time zone' THEN 'timestamptz' ELSE data_type END AS type
      FROM information_schema.columns WHERE table_name = 'audit_entry' ORDER BY column_name`;
    const expected = ENTRY_COLUMNS.map((c) => ({ name: c.name, type: c.type })).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    expect(rows).toEqual(expected);
  });

  test('when an entry is written through the gateway and read back through the table, then every field survives', async () => {
    await h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('admin', 'ada')}`)
      .set('X-Request-Id', 'columns-1')
      .send({ url: 'https://hooks.example.com/columns' });
    const [row] = await h.gateway.database.prisma.$queryRawUnsafe<Record<string, unknown>[]>(
      `SELECT ${SELECT_LIST} FROM audit_entry WHERE client_request_id = 'columns-1' AND kind = 'request'`,
    );
    const entry = fromRow(row!);
    expect(Object.keys(entry).sort()).toEqual(ENTRY_COLUMNS.map((c) => c.field).sort());
    expect(entry).toMatchObject({
      kind: 'request',
      clientRequestId: 'columns-1',
      actorSub: 'ada',
      operation: 'webhooks.create',
      applicationId: APP,
    });
    expect(typeof entry.seq).toBe('bigint');
    expect(Buffer.isBuffer(entry.hash)).toBe(true);
    // The transparency log commits to every content column that is set (not to the chain's key_id and hash).
    const leaf = leafRecord(entry);
    const set = ENTRY_COLUMNS.filter((c) => !('chain' in c) && entry[c.field] !== null).map((c) => c.name);
    expect(Object.keys(leaf).sort()).toEqual(set.sort());
    expect(leaf).toMatchObject({ client_request_id: 'columns-1' });
  });
});
