import type { StoredEntry } from './entry';

/**
 * Every column of `audit_entry`, spelled once. The store's INSERT and SELECT lists, the JSON rows a group commit
 * sends, reading a row back, the HMAC chain's hashed fields, the transparency log's leaf and an empty entry all
 * follow this table. Adding a column: the Prisma schema and a migration, the field in `EntryContent`
 * (src/audit/trail/entry.ts), and one row here; the compiler refuses a field without a row, and the reverse.
 *
 * - `type`: the column's Postgres type (how a JSON row is typed back, and how a read value is converted).
 * - `later`: added after entries were first written; the chain hashes it only when set (an older entry, read back
 *   with it null, still hashes to what it was written with). The log's leaf leaves out every null member anyway.
 * - `chain`: assigned by the HMAC chain, not content (`key_id`, `hash`): not in the leaf, not in the content.
 */
export const ENTRY_COLUMNS = [
  { field: 'seq', name: 'seq', type: 'bigint' },
  { field: 'at', name: 'at', type: 'timestamptz' },
  { field: 'kind', name: 'kind', type: 'text' },
  { field: 'eventId', name: 'event_id', type: 'uuid' },
  { field: 'requestId', name: 'request_id', type: 'text' },
  { field: 'actorSub', name: 'actor_sub', type: 'text' },
  { field: 'actorName', name: 'actor_name', type: 'text' },
  { field: 'actorEmail', name: 'actor_email', type: 'text' },
  { field: 'actorRoles', name: 'actor_roles', type: 'text[]' },
  { field: 'actorJti', name: 'actor_jti', type: 'text' },
  { field: 'actorIssuer', name: 'actor_issuer', type: 'text' },
  { field: 'clientIp', name: 'client_ip', type: 'text' },
  { field: 'userAgent', name: 'user_agent', type: 'text' },
  { field: 'operation', name: 'operation', type: 'text' },
  { field: 'method', name: 'method', type: 'text' },
  { field: 'path', name: 'path', type: 'text' },
  { field: 'applicationId', name: 'application_id', type: 'text' },
  { field: 'webhookId', name: 'webhook_id', type: 'text' },
  { field: 'apikeyFingerprint', name: 'apikey_fingerprint', type: 'text' },
  { field: 'requestBody', name: 'request_body', type: 'jsonb' },
  { field: 'details', name: 'details', type: 'jsonb' },
  { field: 'decision', name: 'decision', type: 'text' },
  { field: 'reason', name: 'reason', type: 'text' },
  { field: 'outcome', name: 'outcome', type: 'text' },
  { field: 'upstreamStatus', name: 'upstream_status', type: 'integer' },
  { field: 'errorCode', name: 'error_code', type: 'text' },
  { field: 'latencyMs', name: 'latency_ms', type: 'double precision' },
  { field: 'fingerprints', name: 'fingerprints', type: 'text[]' },
  { field: 'team', name: 'team', type: 'text', later: true },
  { field: 'approvalId', name: 'approval_id', type: 'text', later: true },
  { field: 'clientRequestId', name: 'client_request_id', type: 'text', later: true },
  { field: 'keyId', name: 'key_id', type: 'text', chain: true },
  { field: 'hash', name: 'hash', type: 'bytea', chain: true },
] as const satisfies readonly Column[];

type ColumnType =
  'bigint' | 'timestamptz' | 'text' | 'uuid' | 'text[]' | 'jsonb' | 'integer' | 'double precision' | 'bytea';

interface Column {
  field: keyof StoredEntry;
  name: string;
  type: ColumnType;
  later?: true;
  chain?: true;
}

type Row = (typeof ENTRY_COLUMNS)[number];
type Covered = Row['field'];
/** Compile-time: every field of a stored entry has a column, and every column a field. */
type Uncovered = Exclude<keyof StoredEntry, Covered>;
const everyFieldHasAColumn: [Uncovered] extends [never] ? true : Uncovered = true;
void everyFieldHasAColumn;

export type ContentField = Exclude<Covered, 'seq' | 'keyId' | 'hash'>;
/** The entry's own content, in table order: what the chain hashes beside `seq` and `keyId`. */
export const CONTENT_COLUMNS = ENTRY_COLUMNS.filter(
  (c): c is Extract<Row, { field: ContentField }> => c.field !== 'seq' && !('chain' in c),
);

/** `a, b, c`: the INSERT list. */
export const COLUMN_LIST = ENTRY_COLUMNS.map((c) => c.name).join(', ');

/** The SELECT list: `at` read back exactly as it was hashed (UTC, microseconds), uuids as text. */
export const SELECT_LIST = ENTRY_COLUMNS.map((c) =>
  c.type === 'timestamptz'
    ? `to_char(${c.name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${c.name}`
    : c.type === 'uuid'
      ? `${c.name}::text AS ${c.name}`
      : c.name,
).join(', ');

/** How a JSON row of a group commit is typed (`jsonb_to_recordset(...) AS r(<this>)`): bytes travel as hex. */
export const JSON_ROW_TYPE = ENTRY_COLUMNS.map((c) => `${c.name} ${c.type === 'bytea' ? 'text' : c.type}`).join(', ');
/** What is selected from such a row for the INSERT. */
export const JSON_ROW_SELECT = ENTRY_COLUMNS.map((c) =>
  c.type === 'bytea' ? `decode(r.${c.name}, 'hex')` : `r.${c.name}`,
).join(', ');

/** An entry as one JSON row (bigint as a string, bytes as hex, absent as null). */
export function toJsonRow(e: StoredEntry): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of ENTRY_COLUMNS) {
    const value: unknown = e[c.field];
    row[c.name] =
      typeof value === 'bigint' ? value.toString() : Buffer.isBuffer(value) ? value.toString('hex') : (value ?? null);
  }
  return row;
}

/** A row as the database driver returns it, back to an entry. */
export function fromRow(r: Record<string, unknown>): StoredEntry {
  const entry: Record<string, unknown> = {};
  for (const c of ENTRY_COLUMNS) entry[c.field] = readValue(c.type, r[c.name]);
  return entry as unknown as StoredEntry;
}

function readValue(type: ColumnType, v: unknown): unknown {
  switch (type) {
    case 'bigint':
      return BigInt(v as bigint);
    case 'bytea':
      return Buffer.from(v as Uint8Array);
    case 'text[]':
      return (v as string[] | null) ?? [];
    case 'jsonb':
      return v ?? null;
    case 'integer':
    case 'double precision':
      return v === null || v === undefined ? null : Number(v);
    default:
      return v === null || v === undefined ? null : String(v);
  }
}

/** The leaf record of the transparency log: snake_case members, `seq` in decimal, no chain columns, no nulls. */
export function leafMembers(e: StoredEntry): Record<string, unknown> & { seq: string } {
  const record: Record<string, unknown> = { seq: e.seq.toString() };
  for (const c of CONTENT_COLUMNS) {
    const value = e[c.field];
    if (value !== null && value !== undefined) record[c.name] = value;
  }
  return record as Record<string, unknown> & { seq: string };
}

/** Every content field unset: null, or `[]` for the array columns (never null). Callers set the rest. */
export function emptyContent(): Record<ContentField, unknown> {
  const content = {} as Record<ContentField, unknown>;
  for (const c of CONTENT_COLUMNS) content[c.field] = c.type === 'text[]' ? [] : null;
  return content;
}
