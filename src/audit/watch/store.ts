import type { PrismaClient } from '../../generated/prisma/client';
import type { Verification } from '../review/chain-verify';

/** The last background full verification, as `GET /v1/audit/verify` shows it in `last_full_verification`. */
export interface LastFullVerification {
  at: string;
  ok: boolean;
  entries: number;
  last_sequence: string | null;
  first_bad_sequence: string | null;
  problem: string | null;
  message: string | null;
  duration_ms: number;
}

/** The one row of audit_full_verification: its lease (one instance walks at a time) and the last result. */
export interface FullVerificationStore {
  /** Takes the lease if it is free and a verification is due (the last one ended `intervalS` ago, or never). */
  claimIfDue(owner: string, intervalS: number, leaseMs: number): Promise<boolean>;
  renew(owner: string, leaseMs: number): Promise<boolean>;
  /** Stores the result and gives the lease back. */
  finish(owner: string, result: Verification, durationMs: number): Promise<LastFullVerification | undefined>;
  release(owner: string): Promise<void>;
  last(): Promise<LastFullVerification | null>;
}

interface Row {
  at: Date | null;
  ok: boolean | null;
  entries: bigint | null;
  last_sequence: bigint | null;
  first_bad_sequence: bigint | null;
  problem: string | null;
  message: string | null;
  duration_ms: number | null;
}

export function createFullVerificationStore(prisma: PrismaClient): FullVerificationStore {
  return {
    async claimIfDue(owner, intervalS, leaseMs) {
      // The interval counts from the first time any instance looked: a fresh deployment is verified a day in.
      await prisma.$executeRaw`UPDATE audit_full_verification SET at = clock_timestamp() WHERE id = 1 AND at IS NULL`;
      const n = await prisma.$executeRaw`
        UPDATE audit_full_verification
        SET lease_owner = ${owner}, lease_until = clock_timestamp() + ${leaseMs}::integer * interval '1 millisecond'
        WHERE id = 1 AND (lease_until IS NULL OR lease_until < clock_timestamp())
          AND at <= clock_timestamp() - ${intervalS}::integer * interval '1 second'`;
      return n === 1;
    },
    async renew(owner, leaseMs) {
      const n = await prisma.$executeRaw`
        UPDATE audit_full_verification
        SET lease_until = clock_timestamp() + ${leaseMs}::integer * interval '1 millisecond'
        WHERE id = 1 AND lease_owner = ${owner}`;
      return n === 1;
    },
    async finish(owner, result, durationMs) {
      const bad = result.ok ? null : result.first_bad_sequence === null ? null : BigInt(result.first_bad_sequence);
      const last = result.ok && result.last_sequence !== null ? BigInt(result.last_sequence) : null;
      const rows = await prisma.$queryRaw<Row[]>`
        UPDATE audit_full_verification
        SET at = clock_timestamp(), ok = ${result.ok}, entries = ${result.entries}, last_sequence = ${last},
          first_bad_sequence = ${bad}, problem = ${result.ok ? null : result.problem},
          message = ${result.ok ? null : result.message}, duration_ms = ${durationMs}, lease_until = NULL
        WHERE id = 1 AND lease_owner = ${owner}
        RETURNING at, ok, entries, last_sequence, first_bad_sequence, problem, message, duration_ms`;
      return rows[0] ? (present(rows[0]) ?? undefined) : undefined;
    },
    async release(owner) {
      await prisma.$executeRaw`UPDATE audit_full_verification SET lease_until = NULL WHERE id = 1 AND lease_owner = ${owner}`;
    },
    async last() {
      const [row] = await prisma.$queryRaw<Row[]>`
        SELECT at, ok, entries, last_sequence, first_bad_sequence, problem, message, duration_ms
        FROM audit_full_verification WHERE id = 1`;
      return row ? present(row) : null;
    },
  };
}

function present(row: Row): LastFullVerification | null {
  if (row.at === null || row.ok === null) return null;
  return {
    at: row.at.toISOString(),
    ok: row.ok,
    entries: Number(row.entries ?? 0),
    last_sequence: row.last_sequence === null ? null : String(row.last_sequence),
    first_bad_sequence: row.first_bad_sequence === null ? null : String(row.first_bad_sequence),
    problem: row.problem,
    message: row.message,
    duration_ms: row.duration_ms ?? 0,
  };
}

/** `last_full_verification` of `GET /v1/audit/verify`: null until a background verification has run. */
export async function lastFull(audit: {
  fullVerification?: { last(): Promise<LastFullVerification | null> };
}): Promise<LastFullVerification | null> {
  return (await audit.fullVerification?.last()) ?? null;
}
