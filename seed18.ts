import { createTestDatabase } from './test/helpers/database';
import { startHarness } from './test/helpers/harness';
import { seedLargeTrail } from './test/helpers/large-trail';
(async () => {
  const db = await createTestDatabase('postgres');
  const h = await startHarness({ database: db, env: { LOG_LEVEL: 'silent' } });
  await h.gateway.database.prisma.$executeRawUnsafe('ALTER TABLE audit_entry DISABLE TRIGGER USER');
  await h.gateway.database.prisma.$executeRawUnsafe('DELETE FROM audit_entry');
  const t = performance.now();
  await seedLargeTrail(h.gateway.database.prisma, 1_000_000);
  console.log('seeded', (performance.now() - t) / 1000, db.url);
  await h.close();
})();
