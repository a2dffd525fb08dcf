import { Prisma, type PrismaClient } from '../../generated/prisma/client';
import type { StoredEntry } from '../trail/entry';
import { findEventOf, findEvents, type AuditEvent, type EventFilter, type Order } from '../trail/event-query';
import { fromRow } from '../trail/columns';
import { SELECT_COLUMNS } from '../trail/store';

/**
 * Reading the trail for review (query, export, verification, key lookup), on the read pool (src/db/client.ts):
 * its own connections and a `statement_timeout`, so an expensive search is cut off and never holds a connection
 * an audit write needs (issue 18, finding 3). A failure is an AuditReadUnavailable, answered 503.
 */
export interface AuditReader {
  findEvents(filter: EventFilter, order: Order, limit: number, afterSeq?: bigint): Promise<AuditEvent[]>;
  eventWithEntries(seq: bigint): Promise<{ event: AuditEvent; entries: StoredEntry[] } | undefined>;
  /** Entries holding any of these fingerprints (one per key of the keyring). */
  withFingerprint(fingerprints: string[], limit: number): Promise<StoredEntry[]>;
  latest(): Promise<StoredEntry | undefined>;
  /**
   * Entries after `afterSeq` in sequence order: at most `limit`, and no more than CHAIN_PAGE_BYTES of them (as
   * text) unless the first alone is larger. A trail of entries written before the size bound (3.8 MB each) is
   * read a few at a time, not 2,000 at a time.
   */
  readChain(afterSeq: bigint, limit: number): Promise<StoredEntry[]>;
}

/** What one page of a chain walk may hold, as the entries' text: the walk's memory is a small multiple of it. */
export const CHAIN_PAGE_BYTES = 4 * 1024 * 1024;

export type ReadFailure = 'statement_timeout' | 'database_error';

export class AuditReadUnavailable extends Error {
  override name = 'AuditReadUnavailable';
  constructor(
    readonly reason: ReadFailure,
    options?: { cause?: unknown },
  ) {
    super(
      reason === 'statement_timeout'
        ? 'the audit read ran past AUDIT_READ_TIMEOUT_MS'
        : 'the audit trail could not be read',
      options,
    );
  }
}

/** Postgres cancelled the statement (57014: statement_timeout), by the SQLSTATE the adapter passes on. */
function readFailure(err: unknown): ReadFailure {
  const e = err as {
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: { originalCode?: string } } };
    cause?: { code?: unknown };
  };
  const code = e?.meta?.driverAdapterError?.cause?.originalCode ?? e?.code ?? e?.cause?.code;
  return code === '57014' ? 'statement_timeout' : 'database_error';
}

/** A read of the trail (or of the log built on it) that failed in the database is AuditReadUnavailable (a 503). */
export const guarded = async <T>(work: Promise<T>): Promise<T> => {
  try {
    return await work;
  } catch (err) {
    throw new AuditReadUnavailable(readFailure(err), { cause: err });
  }
};

export function createAuditReader(prisma: PrismaClient): AuditReader {
  /** Rows whose sizes the next chain page looks at: twice the last page's, so a run of large entries costs linear work. */
  let sizeWindow = 1000;
  const select = async (where: Prisma.Sql, tail: Prisma.Sql = Prisma.empty) =>
    (await prisma.$queryRaw<Record<string, unknown>[]>`SELECT ${SELECT_COLUMNS} FROM audit_entry ${where} ${tail}`).map(
      fromRow,
    );

  return {
    findEvents: (filter, order, limit, afterSeq) => guarded(findEvents(prisma, filter, order, limit, afterSeq)),
    eventWithEntries: (seq) =>
      guarded(
        (async () => {
          const event = await findEventOf(prisma, seq);
          if (!event) return undefined;
          return {
            event,
            entries: await select(Prisma.sql`WHERE event_id = ${event.eventId}::uuid`, Prisma.sql`ORDER BY seq`),
          };
        })(),
      ),
    withFingerprint: (fingerprints, limit) =>
      guarded(
        select(
          Prisma.sql`WHERE fingerprints && ARRAY[${Prisma.join(fingerprints)}]::text[]`,
          Prisma.sql`ORDER BY seq LIMIT ${limit}`,
        ),
      ),
    latest: () => guarded(select(Prisma.empty, Prisma.sql`ORDER BY seq DESC LIMIT 1`).then((rows) => rows[0])),
    readChain: (afterSeq, limit) =>
      guarded(
        (async () => {
          // Sizes first (one small row each), then only the rows that fit the page. The size is an upper bound that
          // needs no formatting of the row: stored (possibly compressed) jsonb taken 8 times (bodies and details
          // were at most 16 KiB even before the entry bound), 80 bytes a fingerprint (what was unbounded), 2 KiB
          // for the rest. Formatting each row to measure it read a trail of 100 poisoned entries in 180 s.
          const sizes = await prisma.$queryRaw<{ seq: bigint; bytes: number }[]>`
            SELECT e.seq, (8 * (COALESCE(pg_column_size(e.request_body), 0) + COALESCE(pg_column_size(e.details), 0))
                           + 80 * COALESCE(cardinality(e.fingerprints), 0) + COALESCE(octet_length(e.path), 0) + COALESCE(octet_length(e.user_agent), 0) + 2048)::int AS bytes
            FROM audit_entry e WHERE e.seq > ${afterSeq} ORDER BY e.seq LIMIT ${Math.min(limit, sizeWindow)}`;
          if (sizes.length === 0) return [];
          let total = 0;
          let last = BigInt(sizes[0]!.seq);
          for (const { seq, bytes } of sizes) {
            total += bytes;
            if (total > CHAIN_PAGE_BYTES && BigInt(seq) !== last) break;
            last = BigInt(seq);
          }
          const page = await select(Prisma.sql`WHERE seq > ${afterSeq} AND seq <= ${last}`, Prisma.sql`ORDER BY seq`);
          sizeWindow = Math.min(1000, Math.max(8, page.length * 2));
          return page;
        })(),
      ),
  };
}
