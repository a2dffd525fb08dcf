import { createHash } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client';

/**
 * Seeds `rows` entries straight into an empty audit_entry table (not a valid chain: for review queries, not for
 * verification). Entries 2k-1 and 2k are the k-th event's request and response, spread evenly over 30 days,
 * 100 actors, 5,000 applications. Outcomes: every 1,000th event `upstream_timeout`, every 50th `upstream_error`,
 * else `success`. Webhook operations name one of 10,000 webhooks; every 500th request mentions a secret
 * (fingerprint `fingerprintOf(k)`). Sequences start after `afterSeq`.
 */
export async function seedLargeTrail(prisma: PrismaClient, rows: number, afterSeq = 0): Promise<void> {
  await prisma.$executeRawUnsafe(`
    INSERT INTO audit_entry (seq, at, kind, event_id, request_id, actor_sub, actor_roles, operation, method, path, application_id,
                             webhook_id, decision, reason, outcome, upstream_status, latency_ms, fingerprints, key_id, hash)
    SELECT i + ${afterSeq}, now() - interval '30 days' + (k * (interval '30 days' / ${Math.max(1, rows / 2)})),
           CASE WHEN i % 2 = 1 THEN 'request' ELSE 'response' END,
           md5(k::text)::uuid, 'req-' || k, 'user-' || (k % 100), ARRAY['editor'],
           (ARRAY['applications.create','applications.update','webhooks.create','webhooks.delete'])[1 + k % 4], 'POST',
           '/v1/applications', 'app' || (k % 5000),
           CASE WHEN k % 4 >= 2 THEN 'wh' || (k % 10000) END,
           'allowed', 'role_grants_permission',
           CASE WHEN i % 2 = 0 THEN (CASE WHEN k % 1000 = 0 THEN 'upstream_timeout' WHEN k % 50 = 0 THEN 'upstream_error' ELSE 'success' END) END,
           CASE WHEN i % 2 = 0 THEN 201 END, CASE WHEN i % 2 = 0 THEN 12.5 END,
           CASE WHEN i % 2 = 1 AND k % 500 = 0 THEN ARRAY['hmac-sha256:' || md5(k::text) || md5(k::text)] ELSE ARRAY[]::text[] END,
           'bench', decode(md5(i::text), 'hex')
    FROM generate_series(1, ${rows}) AS i, LATERAL (SELECT (i + 1) / 2 AS k) AS e`);
  await prisma.$executeRawUnsafe('ANALYZE audit_entry');
}

/** The fingerprint the k-th seeded event's request mentions (k a multiple of 500). */
export const fingerprintOf = (k: number): string => {
  const md5 = createHash('md5').update(String(k)).digest('hex');
  return `hmac-sha256:${md5}${md5}`;
};
