import type { PrismaClient } from '../../generated/prisma/client';

/** A sink's row as its streamer sees it: whether this instance holds the lease now, and where the sink has got to. */
export interface CursorState {
  held: boolean;
  ackedSeq: bigint;
  failingSince: Date | null;
}

/**
 * The durable cursor of each sink and its lease (table audit_sink_cursor), in Postgres beside the trail. The lease
 * is taken or renewed by one statement that succeeds only for its holder or once it has run out, so one instance
 * streams a sink at a time; every change the holder makes is conditional on still holding it.
 */
export interface SinkCursors {
  lease(sink: string, owner: string, ttlMs: number): Promise<CursorState>;
  /** Moves the cursor forward; false if the lease was lost meanwhile (the next holder sends the batch again). */
  advance(sink: string, owner: string, seq: bigint): Promise<boolean>;
  /** Sets or clears failing_since; true only if this call changed it (then the caller writes the `system` entry). */
  markFailing(sink: string, owner: string, since: Date | null): Promise<boolean>;
  release(sink: string, owner: string): Promise<void>;
  /** The newest sequence in the trail (0 when empty), for the lag. */
  head(): Promise<bigint>;
}

export function createSinkCursors(prisma: PrismaClient): SinkCursors {
  return {
    async lease(sink, owner, ttlMs) {
      const taken = await prisma.$queryRaw<{ acked_seq: bigint; failing_since: Date | null }[]>`
        INSERT INTO audit_sink_cursor AS c (sink, lease_owner, lease_until)
        VALUES (${sink}, ${owner}, clock_timestamp() + ${ttlMs}::integer * interval '1 millisecond')
        ON CONFLICT (sink) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until,
          updated_at = clock_timestamp()
        WHERE c.lease_owner = EXCLUDED.lease_owner OR c.lease_until IS NULL OR c.lease_until < clock_timestamp()
        RETURNING c.acked_seq, c.failing_since`;
      if (taken[0]) return { held: true, ackedSeq: BigInt(taken[0].acked_seq), failingSince: taken[0].failing_since };
      const [row] = await prisma.$queryRaw<{ acked_seq: bigint; failing_since: Date | null }[]>`
        SELECT acked_seq, failing_since FROM audit_sink_cursor WHERE sink = ${sink}`;
      return { held: false, ackedSeq: BigInt(row?.acked_seq ?? 0n), failingSince: row?.failing_since ?? null };
    },
    async advance(sink, owner, seq) {
      const n = await prisma.$executeRaw`
        UPDATE audit_sink_cursor SET acked_seq = ${seq}, updated_at = clock_timestamp()
        WHERE sink = ${sink} AND lease_owner = ${owner} AND lease_until > clock_timestamp() AND acked_seq < ${seq}`;
      return n === 1;
    },
    async markFailing(sink, owner, since) {
      const n =
        since === null
          ? await prisma.$executeRaw`
              UPDATE audit_sink_cursor SET failing_since = NULL
              WHERE sink = ${sink} AND lease_owner = ${owner} AND failing_since IS NOT NULL`
          : await prisma.$executeRaw`
              UPDATE audit_sink_cursor SET failing_since = ${since}
              WHERE sink = ${sink} AND lease_owner = ${owner} AND failing_since IS NULL`;
      return n === 1;
    },
    async release(sink, owner) {
      await prisma.$executeRaw`
        UPDATE audit_sink_cursor SET lease_until = NULL WHERE sink = ${sink} AND lease_owner = ${owner}`;
    },
    async head() {
      const [row] = await prisma.$queryRaw<{ head: bigint | null }[]>`SELECT max(seq) AS head FROM audit_entry`;
      return BigInt(row?.head ?? 0n);
    },
  };
}
