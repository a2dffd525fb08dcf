import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { presentEvent } from './present';
import type { AuditEvent, EventFilter, Order } from '../trail/event-query';
import type { AuditReader } from './reader';

export type ExportFormat = 'csv' | 'ndjson';

export const CSV_COLUMNS = [
  'sequence',
  'time',
  'completed_at',
  'kind',
  'event_id',
  'request_id',
  'actor_sub',
  'actor_name',
  'actor_email',
  'actor_roles',
  'client_ip',
  'user_agent',
  'operation',
  'method',
  'path',
  'application_id',
  'webhook_id',
  'apikey_fingerprint',
  'decision',
  'reason',
  'outcome',
  'upstream_status',
  'error_code',
  'latency_ms',
  'team',
  'approval_id',
  'client_request_id',
] as const;

const PAGE = 1000;

/**
 * Streams every matching event, page by page (keyset on the sequence), waiting for the client to drain
 * each chunk: memory stays flat however many millions of rows match. Stops if the client goes away.
 */
export async function streamEvents(
  store: Pick<AuditReader, 'findEvents'>,
  res: Writable,
  filter: EventFilter,
  order: Order,
  format: ExportFormat,
): Promise<number> {
  let written = 0;
  let after: bigint | undefined;
  const closed = once(res, 'close');
  const write = async (chunk: string) => {
    if (!res.write(chunk) && !res.destroyed) await Promise.race([once(res, 'drain'), closed]);
  };
  if (format === 'csv') await write(`${CSV_COLUMNS.join(',')}\r\n`);
  for (;;) {
    const events = await store.findEvents(filter, order, PAGE, after);
    if (events.length === 0 || res.destroyed) break;
    const chunk = events.map((e) => (format === 'csv' ? csvRow(e) : `${JSON.stringify(presentEvent(e))}\n`)).join('');
    await write(chunk);
    written += events.length;
    after = events[events.length - 1]!.sequence;
    if (events.length < PAGE) break;
  }
  res.end();
  return written;
}

/**
 * Where each CSV column is in the event as the API presents it (src/audit/review/present.ts spells the fields once): a
 * column is the presented field of its name, or a member of `actor`, `client` or `target`.
 */
const NESTED: Partial<Record<(typeof CSV_COLUMNS)[number], [string, string]>> = {
  actor_sub: ['actor', 'sub'],
  actor_name: ['actor', 'name'],
  actor_email: ['actor', 'email'],
  actor_roles: ['actor', 'roles'],
  client_ip: ['client', 'ip'],
  user_agent: ['client', 'user_agent'],
  application_id: ['target', 'application_id'],
  webhook_id: ['target', 'webhook_id'],
  apikey_fingerprint: ['target', 'apikey_fingerprint'],
};

/** A presented event's value for one CSV column; roles are one cell, space-separated. */
export function csvValue(presented: Record<string, unknown>, column: (typeof CSV_COLUMNS)[number]): unknown {
  const path = NESTED[column];
  const value = path
    ? (presented[path[0]] as Record<string, unknown> | null | undefined)?.[path[1]]
    : presented[column];
  return Array.isArray(value) ? value.join(' ') : value;
}

function csvRow(e: AuditEvent): string {
  const presented = presentEvent(e) as Record<string, unknown>;
  return `${CSV_COLUMNS.map((c) => csvField(csvValue(presented, c))).join(',')}\r\n`;
}

/**
 * RFC 4180 quoting, plus a guard against formula injection: a spreadsheet would run a cell starting with
 * = + - @ (or a tab/CR before one), and actor names and user agents are client-controlled.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
