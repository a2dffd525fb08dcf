/**
 * What holds the gateway's memory (issue 16): RSS, V8's heap (by space), external memory and array buffers, taken
 * at each stage of a gateway's life in this process: modules loaded, gateway composed (database open), the first
 * forwarded read and audited mutation (Prisma's query compiler instantiated), then after load. Node flags are the
 * operator's to choose, so run it with and without one to see what the flag changes, e.g.:
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/lab/memory.ts [requests=3000]
 *   node --max-semi-space-size=2 --import tsx bench/lab/memory.ts
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { Pool } from 'undici';

const MB = 2 ** 20;
const rows: string[] = [];
function stage(name: string): void {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  const space = (n: string) => ((spaces[n]?.space_size ?? 0) / MB).toFixed(0);
  rows.push(
    `| ${name} | ${(m.rss / MB).toFixed(0)} | ${(m.heapUsed / MB).toFixed(0)} / ${(m.heapTotal / MB).toFixed(0)} | ${space('new_space')} | ${space('old_space')} | ${space('code_space')} | ${(m.external / MB).toFixed(0)} | ${(m.arrayBuffers / MB).toFixed(0)} |`,
  );
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 3000);
  stage('node started');
  const { startHarness } = await import('../../test/helpers/harness');
  const { tokenFor } = await import('../../test/helpers/tokens');
  stage('modules loaded');
  const h = await startHarness({ env: { LOG_LEVEL: 'silent' } });
  stage('gateway composed, database open and seeded');
  const admin = `Bearer ${tokenFor('admin')}`;
  const pool = new Pool(h.gatewayUrl, { connections: 8 });
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => {
    const res = await pool.request({
      method,
      path,
      headers: { authorization: admin, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  };
  const APP = 'wSPk9y5D7p5o87k0ACGKxR';
  await call('GET', '/v1/applications');
  const created = await call('POST', `/v1/applications/${APP}/webhooks`, { url: 'https://hooks.example.com/memory' });
  await call('DELETE', `/v1/applications/${APP}/webhooks/${(JSON.parse(created.text) as { id: string }).id}`);
  stage('first read and mutation served');
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < requests) {
        const i = next++;
        if (i % 8 === 6) {
          const c = await call('POST', `/v1/applications/${APP}/webhooks`, { url: 'https://hooks.example.com/memory' });
          if (c.status === 201)
            await call('DELETE', `/v1/applications/${APP}/webhooks/${(JSON.parse(c.text) as { id: string }).id}`);
        } else await call('GET', '/v1/applications');
      }
    }),
  );
  stage(`after ${requests} requests (6 reads : 1 create : 1 delete)`);
  (globalThis as { gc?: () => void }).gc?.();
  if ((globalThis as { gc?: () => void }).gc) stage('after a full collection');
  await pool.close();
  await h.close();
  process.stdout.write(
    [
      `Node ${process.version}, flags: ${process.execArgv.filter((a, i, all) => a.startsWith('--') && a !== '--import' && all[i - 1] !== '--import').join(' ') || '(none)'}`,
      '',
      '| stage | RSS MB | heap used / total MB | new space MB | old space MB | code space MB | external MB | array buffers MB |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
