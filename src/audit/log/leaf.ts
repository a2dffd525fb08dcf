import { leafMembers } from '../trail/columns';
import type { StoredEntry } from '../trail/entry';
import { canonicalJson } from '../trail/canonical-json';
import { leafHash } from './merkle';

/**
 * An audit entry as a leaf of the transparency log (docs/audit-format.md is the normative text): a flat
 * object of snake_case members, `seq` as a decimal string, every member whose value is null left out
 * (so a column added later, null on older rows, never changes an older leaf), written with RFC 8785.
 * The HMAC chain's `key_id` and `hash` are not part of it: the log does not need the HMAC key.
 */
export type LeafRecord = Record<string, unknown> & { seq: string };

export function leafRecord(e: StoredEntry): LeafRecord {
  return leafMembers(e);
}

/** Top-level members whose value is null (or absent) are left out; nested values are kept as they are. */
export function withoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined));
}

/** The canonical bytes of a leaf: what one line of the log's NDJSON export holds. */
export function leafText(record: Record<string, unknown>): string {
  return canonicalJson(withoutNulls(record));
}

export function leafHashOf(record: Record<string, unknown>): Buffer {
  return leafHash(Buffer.from(leafText(record), 'utf8'));
}

export const entryLeafHash = (e: StoredEntry): Buffer => leafHashOf(leafRecord(e));
