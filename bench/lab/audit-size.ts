/**
 * What the audit trail weighs on disk per entry, for retention planning (docs/runbooks.md, "Retention"): real
 * mutations and refusals through the gateway into a server Postgres, the transparency log brought up to date, then
 * the tables' sizes (heap, indexes and TOAST) divided by the entries written, scaled to a million.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/lab/audit-size.ts [mutations]
 */
import { Client } from 'pg';
import { startHarness } from '../../test/helpers/harness';
import { tokenFor } from '../../test/helpers/tokens';
import { exitWhenDone } from './ab';

const TABLES = ['audit_entry', 'audit_tree_node', 'audit_checkpoint', 'audit_cosignature', 'application_owner'];

exitWhenDone(async () => {
  const mutations = Number(process.argv[2] ?? 3000);
  const h = await startHarness({ backend: 'postgres', env: { LOG_LEVEL: 'silent' } });
  try {
    const admin = tokenFor('admin', 'size-admin');
    const viewer = tokenFor('viewer', 'size-viewer');
    for (let i = 0; i < mutations; i++) {
      // Four writes to one refusal: a webhook created, and every fifth call a viewer refused (a decision entry).
      if (i % 5 === 4) {
        await h
          .api()
          .post('/v1/applications/wSPk9y5D7p5o87k0ACGKxR/webhooks')
          .set('Authorization', `Bearer ${viewer}`)
          .send({ url: `https://hooks.example.com/${i}` });
      } else {
        await h
          .api()
          .post('/v1/applications/wSPk9y5D7p5o87k0ACGKxR/webhooks')
          .set('Authorization', `Bearer ${admin}`)
          .send({ url: `https://hooks.example.com/size/${i}` });
      }
    }
    await h.api().post('/v1/audit/checkpoint').set('Authorization', `Bearer ${admin}`);
    const client = new Client({ connectionString: h.database.url });
    await client.connect();
    await client.query('VACUUM ANALYZE');
    const sizes = await client.query<{ table: string; bytes: string }>(
      `SELECT t AS table, pg_total_relation_size(t::regclass)::text AS bytes FROM unnest($1::text[]) AS t`,
      [TABLES],
    );
    const [{ n }] = (await client.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_entry')).rows as [
      { n: string },
    ];
    await client.end();
    const entries = Number(n);
    const total = sizes.rows.reduce((s, r) => s + Number(r.bytes), 0);
    const perMillion = (bytes: number) => `${(((bytes / entries) * 1e6) / 2 ** 30).toFixed(2)} GiB`;
    process.stdout.write(
      [
        `${mutations} calls (4 of 5 forwarded mutations, 1 of 5 refused): ${entries} audit entries`,
        ...sizes.rows.map(
          (r) =>
            `  ${r.table}: ${(Number(r.bytes) / 2 ** 20).toFixed(1)} MiB, ${Math.round(Number(r.bytes) / entries)} bytes an entry, ${perMillion(Number(r.bytes))} per million entries`,
        ),
        `  all: ${Math.round(total / entries)} bytes an entry, ${perMillion(total)} per million entries`,
        '',
      ].join('\n'),
    );
  } finally {
    await h.close();
  }
});
