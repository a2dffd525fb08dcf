import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './src/generated/prisma/client';
import { findEvents } from './src/audit/query';
import { fingerprintOf } from './test/helpers/large-trail';
const url = process.argv[2]!;
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 2 }) });
const filters: [string, any][] = [
  ['outcome=upstream_timeout', { outcome: 'upstream_timeout' }],
  ['outcome=success', { outcome: 'success' }],
  ['outcome=upstream_error', { outcome: 'upstream_error' }],
  ['outcome=pending', { outcome: 'pending' }],
  ['application_id=app17', { applicationId: 'app17' }],
  ['application_id=wh17', { applicationId: 'wh17' }],
  ['key_fingerprint', { keyFingerprint: fingerprintOf(500 * 77) }],
  ['actor', { actor: 'user-7' }],
  ['operation', { operation: 'webhooks.delete' }],
  ['request_id', { requestId: 'req-4242' }],
  ['decision', { decision: 'denied' }],
  ['kind=access', { kind: 'access' }],
  ['since/until', { since: new Date(Date.now() - 10 * 86400e3).toISOString(), until: new Date(Date.now() - 9 * 86400e3).toISOString() }],
  ['team', { team: 'payments' }],
];
(async () => {
  for (const [name, f] of filters) {
    const times: number[] = [];
    let n = 0;
    for (let i = 0; i < Number(process.argv[3] ?? 3); i++) { const t = performance.now(); n = (await findEvents(prisma, f, 'desc', 51)).length; times.push(performance.now() - t); }
    times.sort((a, b) => a - b);
    console.log(name.padEnd(28), n, times.map((t) => t.toFixed(0)).join(' '));
  }
  await prisma.$disconnect();
})();
