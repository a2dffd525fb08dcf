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

/** Ownership could not be read: the request is refused, never let through unchecked. */
export class OwnershipUnavailable extends Error {
  constructor(override readonly cause: unknown) {
    super('application ownership could not be read');
    this.name = 'OwnershipUnavailable';
  }
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
