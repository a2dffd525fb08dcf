import type { StoredEntry } from '../../src/audit/trail/entry';
import type { Harness } from './harness';

/** Every entry of the harness's audit trail, oldest first. */
export async function allEntries(h: Harness): Promise<StoredEntry[]> {
  return h.deps.audit.store.readChain(0n, 100_000);
}

/** The entries written for one request, by its X-Request-Id. */
export async function entriesFor(h: Harness, requestId: string): Promise<StoredEntry[]> {
  return (await allEntries(h)).filter((e) => e.requestId === requestId);
}

/** Every column of every row as text, to prove a secret appears nowhere in the table. */
export async function tableAsText(h: Harness): Promise<string> {
  const rows = await h.gateway.database.prisma.$queryRawUnsafe<{ row: string }[]>(
    'SELECT audit_entry::text AS row FROM audit_entry',
  );
  return rows.map((r) => r.row).join('\n');
}

/** Runs SQL as the database owner with the append-only triggers off: an attacker with database access. */
export async function tamper(h: Harness, ...statements: string[]): Promise<void> {
  const prisma = h.gateway.database.prisma;
  await prisma.$executeRawUnsafe('ALTER TABLE audit_entry DISABLE TRIGGER USER');
  try {
    for (const sql of statements) await prisma.$executeRawUnsafe(sql);
  } finally {
    await prisma.$executeRawUnsafe('ALTER TABLE audit_entry ENABLE TRIGGER USER');
  }
}

/** The transparency log's tables (issue 15), emptied with the trail so a test can start both afresh. */
const LOG_TABLES = ['audit_tree_node', 'audit_checkpoint', 'audit_cosignature'];

/** Empties the trail and its log, as the database owner with the append-only triggers off (a test's clean slate). */
export async function resetTrail(h: Harness): Promise<void> {
  const prisma = h.gateway.database.prisma;
  const tables = ['audit_entry', ...LOG_TABLES];
  await prisma.$transaction([
    ...tables.map((t) => prisma.$executeRawUnsafe(`ALTER TABLE ${t} DISABLE TRIGGER USER`)),
    prisma.$executeRawUnsafe(`TRUNCATE ${tables.join(', ')}`),
    prisma.$executeRawUnsafe(
      'UPDATE audit_log_state SET tree_size = 0, verified_size = 0, verified_root = NULL, verified_hash = NULL',
    ),
    ...tables.map((t) => prisma.$executeRawUnsafe(`ALTER TABLE ${t} ENABLE TRIGGER USER`)),
  ]);
}

/** Like `tamper`, with the log's tables unprotected too: an attacker rewriting the tree along with the trail. */
export async function tamperWithLog(h: Harness, ...statements: string[]): Promise<void> {
  const prisma = h.gateway.database.prisma;
  const tables = ['audit_entry', ...LOG_TABLES];
  for (const t of tables) await prisma.$executeRawUnsafe(`ALTER TABLE ${t} DISABLE TRIGGER USER`);
  try {
    for (const sql of statements) await prisma.$executeRawUnsafe(sql);
  } finally {
    for (const t of tables) await prisma.$executeRawUnsafe(`ALTER TABLE ${t} ENABLE TRIGGER USER`);
  }
}
