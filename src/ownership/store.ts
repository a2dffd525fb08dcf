import { withTimeout } from '../audit/trail/write-failures';
import type { PrismaClient } from '../generated/prisma/client';

/** The owner of one application as the gateway records it. */
export interface Ownership {
  applicationId: string;
  team: string;
  assignedAt: Date;
  /** The audit entry that assigned it. */
  assignedSeq: bigint;
}

/**
 * Reads the ownership projection. Writes happen only through the audit trail (the trigger of migration
 * *_application_owner_projection): this store has no way to change an owner, and needs none.
 */
export interface OwnershipStore {
  /** The current owner, or undefined for an application no team owns (or that the gateway deleted). */
  ownerOf(applicationId: string): Promise<Ownership | undefined>;
  /** Current owners of these applications (missing ids have none). */
  ownersOf(applicationIds: readonly string[]): Promise<Map<string, string>>;
  /** Every application currently owned by one of these teams. */
  ownedBy(teams: readonly string[]): Promise<Set<string>>;
  /** Every application that has an owner now, with its team. */
  allOwned(): Promise<Map<string, string>>;
  /** Whether any of these teams owns an application now. */
  teamsWithApplications(teams: readonly string[]): Promise<Set<string>>;
}

/**
 * A row of the projection as it stands, retired or not: what the in-memory copy (src/ownership/live.ts) is made of.
 * `version` is the sequence of the audit entry that last changed it, so an older notification never undoes it.
 */
export interface OwnerRecord {
  applicationId: string;
  /** undefined once retired (the application was deleted through the gateway). */
  team: string | undefined;
  assignedAt: Date;
  assignedSeq: bigint;
  version: bigint;
}

/** Reads projection rows as they stand: these applications', or every one. */
export type OwnerRecordReader = (applicationIds?: readonly string[]) => Promise<OwnerRecord[]>;

/** Ownership could not be read: the request is refused, never let through unchecked. */
export class OwnershipUnavailable extends Error {
  constructor(override readonly cause: unknown) {
    super('application ownership could not be read');
    this.name = 'OwnershipUnavailable';
  }
}

/** `timeoutMs` bounds the read (a full read at start-up or after a reconnection may take longer: `timeoutMs`). */
export function createOwnerRecordReader(prisma: PrismaClient, timeoutMs: number): OwnerRecordReader {
  return async (applicationIds) => {
    try {
      const rows = await withTimeout(
        prisma.applicationOwner.findMany(
          applicationIds ? { where: { applicationId: { in: [...applicationIds] } } } : undefined,
        ),
        timeoutMs,
      );
      return rows.map((row) => ({
        applicationId: row.applicationId,
        team: row.retiredAt === null ? row.team : undefined,
        assignedAt: row.assignedAt,
        assignedSeq: row.assignedSeq,
        version: row.retiredSeq ?? row.assignedSeq,
      }));
    } catch (err) {
      throw new OwnershipUnavailable(err);
    }
  };
}

/** `timeoutMs` bounds every read: a hung database refuses requests quickly instead of holding them. */
export function createOwnershipStore(prisma: PrismaClient, timeoutMs: number): OwnershipStore {
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(work(), timeoutMs);
    } catch (err) {
      throw new OwnershipUnavailable(err);
    }
  };
  return {
    ownerOf: (applicationId) =>
      guarded(async () => {
        const row = await prisma.applicationOwner.findUnique({ where: { applicationId } });
        return row && row.retiredAt === null
          ? { applicationId, team: row.team, assignedAt: row.assignedAt, assignedSeq: row.assignedSeq }
          : undefined;
      }),
    ownersOf: (applicationIds) =>
      guarded(async () => {
        if (applicationIds.length === 0) return new Map();
        const rows = await prisma.applicationOwner.findMany({
          where: { applicationId: { in: [...applicationIds] }, retiredAt: null },
          select: { applicationId: true, team: true },
        });
        return new Map(rows.map((r) => [r.applicationId, r.team]));
      }),
    ownedBy: (teams) =>
      guarded(async () => {
        if (teams.length === 0) return new Set();
        const rows = await prisma.applicationOwner.findMany({
          where: { team: { in: [...teams] }, retiredAt: null },
          select: { applicationId: true },
        });
        return new Set(rows.map((r) => r.applicationId));
      }),
    allOwned: () =>
      guarded(async () => {
        const rows = await prisma.applicationOwner.findMany({
          where: { retiredAt: null },
          select: { applicationId: true, team: true },
        });
        return new Map(rows.map((r) => [r.applicationId, r.team]));
      }),
    teamsWithApplications: (teams) =>
      guarded(async () => {
        if (teams.length === 0) return new Set();
        const rows = await prisma.applicationOwner.findMany({
          where: { team: { in: [...teams] }, retiredAt: null },
          select: { team: true },
          distinct: ['team'],
        });
        return new Set(rows.map((r) => r.team));
      }),
  };
}
