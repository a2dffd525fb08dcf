import type { Request, Response } from 'express';
import type { z } from 'zod';
import { streamEvents, type ExportFormat } from '../audit/review/export';
import { presentEntry, presentEvent } from '../audit/review/present';
import type { EventFilter, Order } from '../audit/trail/event-query';
import { GatewayError } from '../errors/codes';
import type { AuditDeps } from './audit';
import type { ActionHandlers } from '../pipeline/handlers';
import type { auditEventsQuery } from '../catalogue/gateway-schemas';
import { requestFacts } from '../pipeline/audit-facts';

/** Largest sequence number (bigint) the trail can hold. */
export const MAX_SEQUENCE = 2n ** 63n - 1n;
const INVALID_SEQUENCE = { code: 'invalid_format', message: 'must be a whole number from 1 to 9223372036854775807' };

/** A sequence number as a path segment or cursor carries it, if it is one the trail could hold. */
export function readSequence(text: string): bigint | undefined {
  if (!/^[1-9]\d{0,18}$/.test(text)) return undefined;
  const seq = BigInt(text);
  return seq <= MAX_SEQUENCE ? seq : undefined;
}

type EventQuery = z.infer<typeof auditEventsQuery>;

const EXPORT_TYPES: Record<string, ExportFormat> = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' };

/** GET /v1/audit/events (JSON pages, or a CSV/NDJSON export of everything that matches) and one event in full. */
export function eventHandlers(audit: AuditDeps): ActionHandlers {
  return {
    async 'audit.query'(req, res) {
      // Validated against the catalogue row's schema by the pipeline's one input step.
      const query = res.locals.actionInput?.query as EventQuery;
      const filter = toFilter(query, res);
      const format = exportFormat(req, query);
      if (format) return exportEvents(req, res, audit, query, format);
      const after = query.cursor ? readCursor(query.cursor, query.order) : undefined;
      const found = await audit.reader.findEvents(filter, query.order, query.limit + 1, after);
      const events = found.slice(0, query.limit);
      await audit.recorder.recordAccess(requestFacts(req, res), 'audit.query', {
        filter: describeFilter(query),
        returned: events.length,
      });
      const last = events.at(-1);
      res.set('Cache-Control', 'no-store').json({
        events: events.map(presentEvent),
        next_cursor: found.length > query.limit && last ? writeCursor(last.sequence, query.order) : null,
      });
    },

    async 'audit.read_event'(req, res) {
      const sequence = String(res.locals.params?.sequence ?? req.params.sequence);
      const seq = readSequence(sequence);
      if (seq === undefined)
        throw new GatewayError('validation_failed', undefined, [
          { location: 'path', field: 'sequence', ...INVALID_SEQUENCE },
        ]);
      const found = await audit.reader.eventWithEntries(seq);
      const readable = found && (readerTeams(res) === undefined || readerTeams(res)?.includes(found.event.team ?? ''));
      if (!found || !readable) throw new GatewayError('not_found', 'No audit entry has this sequence number.');
      await audit.recorder.recordAccess(requestFacts(req, res), 'audit.read_event', { sequence });
      res
        .set('Cache-Control', 'no-store')
        .json({ event: presentEvent(found.event), entries: found.entries.map(presentEntry) });
    },
  };
}

async function exportEvents(
  req: Request,
  res: Response,
  audit: AuditDeps,
  query: EventQuery,
  format: ExportFormat,
): Promise<void> {
  // Recorded before the first byte: an export the client abandons half-way was still asked for.
  await audit.recorder.recordAccess(requestFacts(req, res), 'audit.export', { filter: describeFilter(query), format });
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  res.status(200).set({
    'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'Content-Disposition': `attachment; filename="audit-events-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`,
    'Cache-Control': 'no-store',
  });
  await streamEvents(audit.reader, res, toFilter(query, res), query.order, format);
}

function exportFormat(req: Request, query: EventQuery): ExportFormat | undefined {
  if (query.format === 'csv' || query.format === 'ndjson') return query.format;
  if (query.format === 'json') return undefined;
  const accepted = req.accepts(['application/json', 'text/csv', 'application/x-ndjson']);
  return accepted ? EXPORT_TYPES[accepted] : undefined;
}

/** A `team`-scoped reader's teams: it sees only events about applications they owned at the time. */
export function readerTeams(res: Response): string[] | undefined {
  const { decision, principal } = res.locals;
  return decision?.allowed && decision.scope === 'team' ? (principal?.teams ?? []) : undefined;
}

function toFilter(q: EventQuery, res: Response): EventFilter {
  const teams = readerTeams(res);
  return {
    team: q.team,
    approvalId: q.approval_id,
    ...(teams ? { teamsIn: teams } : {}),
    actor: q.actor,
    operation: q.operation,
    applicationId: q.application_id,
    decision: q.decision,
    outcome: q.outcome,
    requestId: q.request_id,
    since: q.since,
    until: q.until,
    keyFingerprint: q.key_fingerprint,
    kind: q.kind,
  };
}

function describeFilter(q: Partial<EventQuery>): Record<string, unknown> {
  const { cursor: _cursor, format: _format, ...rest } = q;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

/** Opaque to clients; holds the last sequence returned and the order it was read in. */
function writeCursor(sequence: bigint, order: Order): string {
  return Buffer.from(JSON.stringify({ s: sequence.toString(), o: order })).toString('base64url');
}

function readCursor(cursor: string, order: Order): bigint {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown };
    const seq = typeof parsed.s === 'string' ? readSequence(parsed.s) : undefined;
    if (seq !== undefined && parsed.o === order) return seq;
  } catch {
    // fall through to the refusal below
  }
  throw new GatewayError('validation_failed', undefined, [
    {
      location: 'query',
      field: 'cursor',
      code: 'invalid_cursor',
      message: 'not a cursor from this listing (with this order)',
    },
  ]);
}
