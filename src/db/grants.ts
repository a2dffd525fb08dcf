/**
 * The privileges the gateway's runtime role needs, table by table. Append-only tables get SELECT and INSERT only,
 * so the role cannot UPDATE or DELETE audit rows by privilege as well as by trigger (the triggers stop everyone,
 * the missing privilege stops the runtime role before any trigger runs). test/db/least-privilege.test.ts runs the
 * gateway under exactly these grants and fails when a migration adds a table this list does not name.
 */
export const RUNTIME_TABLE_PRIVILEGES: Record<string, readonly string[]> = {
  _prisma_migrations: ['SELECT'], // the start-up check that the schema is current
  audit_entry: ['SELECT', 'INSERT'],
  audit_tree_node: ['SELECT', 'INSERT'],
  audit_checkpoint: ['SELECT', 'INSERT'],
  audit_cosignature: ['SELECT', 'INSERT'],
  // Issue 28: the log's signing keys and their periods; a key's last checkpoint moves forward (a trigger holds the rest).
  audit_signing_key: ['SELECT', 'INSERT', 'UPDATE'],
  audit_log_state: ['SELECT', 'INSERT', 'UPDATE'],
  audit_recovery_state: ['SELECT', 'INSERT', 'UPDATE'],
  application_owner: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  approval_request: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  approval_vote: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  browser_sessions: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  // Issue 24: used sign-in transactions (single use), pruned once past the sign-in window.
  sign_in_used: ['SELECT', 'INSERT', 'DELETE'],
  // Issue 25: each sink's cursor and lease, and the background full verification's lease and last result.
  audit_sink_cursor: ['SELECT', 'INSERT', 'UPDATE'],
  audit_full_verification: ['SELECT', 'INSERT', 'UPDATE'],
};

const ROLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export class RoleNameError extends Error {
  override name = 'RoleNameError';
}

/** The SQL that gives `role` what the gateway needs and nothing more; run it as the schema's owner after `db:migrate`. */
export function runtimeGrants(role: string, schema = 'public'): string {
  if (!ROLE_NAME.test(role)) throw new RoleNameError(`not a plain role name: ${JSON.stringify(role)}`);
  const r = `"${role}"`;
  const s = `"${schema}"`;
  return [
    `-- The gateway's runtime role ${role}: no CREATE on the schema, no UPDATE or DELETE on the audit log's tables.`,
    `-- Create it first (CREATE ROLE ${r} LOGIN PASSWORD '…'); run this as the owner of schema ${schema}.`,
    `REVOKE CREATE ON SCHEMA ${s} FROM PUBLIC;`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${r};`,
    `GRANT USAGE ON SCHEMA ${s} TO ${r};`,
    ...Object.entries(RUNTIME_TABLE_PRIVILEGES).map(
      ([table, privileges]) => `GRANT ${privileges.join(', ')} ON ${s}."${table}" TO ${r};`,
    ),
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r};`,
    '',
  ].join('\n');
}
