import { AuditTimeout, withTimeout } from '../audit/bounded';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { ApprovalState } from './states';

export interface Requester {
  sub: string;
  email: string | null;
  name: string | null;
  roles: string[];
  teams: string[];
}

export interface Vote {
  approverSub: string;
  approverEmail: string | null;
  approverName: string | null;
  reason: string | null;
  at: Date;
}

export interface Approval {
  id: string;
  operation: string;
  method: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown> | null;
  inputHash: string;
  target: string;
  applicationId: string | null;
  team: string | null;
  requester: Requester;
  reason: string | null;
  state: ApprovalState;
  approvalsNeeded: number;
  approverRoles: string[];
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  endedBy: string | null;
  endReason: string | null;
  result: { status: number | null; body: string | null; error: string | null };
  votes: Vote[];
}

export type NewApproval = Omit<Approval, 'state' | 'endedAt' | 'endedBy' | 'endReason' | 'result' | 'votes'>;

/** The approval store could not be read or changed in time: the caller refuses (503), nothing is executed. */
export class ApprovalsUnavailable extends Error {
  readonly timedOut: boolean;
  constructor(override readonly cause: unknown) {
    super('approval requests could not be read or changed');
    this.name = 'ApprovalsUnavailable';
    this.timedOut = cause instanceof AuditTimeout;
  }
}

export class PendingExists extends Error {
  constructor(readonly existingId: string | undefined) {
    super('a request for this operation and target is already pending');
    this.name = 'PendingExists';
  }
}

export interface ApprovalListFilter {
  state?: ApprovalState;
  requesterSub?: string;
  limit: number;
}

/** Approval requests in Postgres. Every transition is a conditional update: two instances never both make it. */
export interface ApprovalStore {
  create(approval: NewApproval): Promise<Approval>;
  get(id: string): Promise<Approval | undefined>;
  list(filter: ApprovalListFilter): Promise<Approval[]>;
  /** Records one approval; false if this person had approved already (counted once). */
  addVote(id: string, vote: Vote): Promise<boolean>;
  /** pending → executing, only while unexpired and with enough votes; true for the one caller that wins. */
  claim(id: string, now: Date): Promise<boolean>;
  /** executing → executed | failed | outcome_unknown, with the upstream's answer. */
  finish(
    id: string,
    state: 'executed' | 'failed' | 'outcome_unknown',
    result: Approval['result'],
    now: Date,
  ): Promise<void>;
  /** pending → denied | cancelled; false if it was no longer pending. */
  end(id: string, state: 'denied' | 'cancelled', by: string, reason: string | null, now: Date): Promise<boolean>;
  /** Every pending request past its expiry becomes expired; returns those this call changed. */
  expireDue(now: Date): Promise<Approval[]>;
  /**
   * Executions claimed more than `olderThanMs` ago (by the database's clock, so instances' clocks do not matter) and
   * never finished (the instance died): outcome_unknown, never run again.
   */
  abandonStale(olderThanMs: number, now: Date): Promise<Approval[]>;
}

/** An API key named in a stored request (apikeys.delete) is needed until it ends, and masked from then on. */
const FORGET_KEY = Prisma.sql`params = CASE WHEN params ? 'apikey_key' THEN jsonb_set(params, '{apikey_key}', to_jsonb('****' || right(params->>'apikey_key', 4))) ELSE params END`;

const WITH_VOTES = { votes: { orderBy: { at: 'asc' } } } as const;
type Row = Prisma.ApprovalRequestGetPayload<{ include: typeof WITH_VOTES }>;

/** Every call bounded by `timeoutMs`; a database failure becomes ApprovalsUnavailable (a pending conflict stays itself). */
export function createApprovalStore(prisma: PrismaClient, timeoutMs: number): ApprovalStore {
  const store = createUnguardedStore(prisma);
  const guarded = {} as ApprovalStore;
  for (const name of Object.keys(store) as (keyof ApprovalStore)[]) {
    (guarded as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      try {
        return await withTimeout((store[name] as (...a: unknown[]) => Promise<unknown>)(...args), timeoutMs);
      } catch (err) {
        throw err instanceof PendingExists ? err : new ApprovalsUnavailable(err);
      }
    };
  }
  return guarded;
}

function createUnguardedStore(prisma: PrismaClient): ApprovalStore {
  const pendingKey = (a: { operation: string; target: string }) => `${a.operation} ${a.target}`;
  return {
    async create(a) {
      try {
        const row = await prisma.approvalRequest.create({
          data: {
            id: a.id,
            operation: a.operation,
            method: a.method,
            params: a.params,
            query: a.query,
            body: a.body === null ? Prisma.DbNull : (a.body as Prisma.InputJsonValue),
            inputHash: a.inputHash,
            target: a.target,
            applicationId: a.applicationId,
            team: a.team,
            requesterSub: a.requester.sub,
            requesterEmail: a.requester.email,
            requesterName: a.requester.name,
            requesterRoles: a.requester.roles,
            requesterTeams: a.requester.teams,
            reason: a.reason,
            state: 'pending',
            approvalsNeeded: a.approvalsNeeded,
            approverRoles: a.approverRoles,
            createdAt: a.createdAt,
            expiresAt: a.expiresAt,
            pendingKey: pendingKey(a),
          },
          include: WITH_VOTES,
        });
        return fromRow(row);
      } catch (err) {
        if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err;
        const existing = await prisma.approvalRequest.findUnique({
          where: { pendingKey: pendingKey(a) },
          select: { id: true },
        });
        throw new PendingExists(existing?.id);
      }
    },
    async get(id) {
      const row = await prisma.approvalRequest.findUnique({ where: { id }, include: WITH_VOTES });
      return row ? fromRow(row) : undefined;
    },
    async list({ state, requesterSub, limit }) {
      const rows = await prisma.approvalRequest.findMany({
        where: { ...(state ? { state } : {}), ...(requesterSub ? { requesterSub } : {}) },
        orderBy: { createdAt: 'desc' },
        take: limit,
        include: WITH_VOTES,
      });
      return rows.map(fromRow);
    },
    async addVote(id, v) {
      try {
        await prisma.approvalVote.create({
          data: {
            approvalId: id,
            approverSub: v.approverSub,
            approverEmail: v.approverEmail,
            approverName: v.approverName,
            reason: v.reason,
            at: v.at,
          },
        });
        return true;
      } catch (err) {
        if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return false;
        throw err;
      }
    },
    async claim(id, now) {
      const claimed = await prisma.$executeRaw`
        UPDATE approval_request SET state = 'executing', pending_key = NULL, claimed_at = now()
        WHERE id = ${id}::uuid AND state = 'pending' AND expires_at > ${now}
          AND (SELECT count(*) FROM approval_vote v WHERE v.approval_id = approval_request.id) >= approvals_needed`;
      return claimed === 1;
    },
    async finish(id, state, result, now) {
      await prisma.$executeRaw`
        UPDATE approval_request SET state = ${state}, ended_at = ${now}, result_status = ${result.status}, result_body = ${result.body},
          result_error = ${result.error}, ${FORGET_KEY}
        WHERE id = ${id}::uuid AND state = 'executing'`;
    },
    async end(id, state, by, reason, now) {
      const changed = await prisma.$executeRaw`
        UPDATE approval_request SET state = ${state}, ended_at = ${now}, ended_by = ${by}, end_reason = ${reason}, pending_key = NULL, ${FORGET_KEY}
        WHERE id = ${id}::uuid AND state = 'pending'`;
      return changed === 1;
    },
    async expireDue(now) {
      const ids = await prisma.$queryRaw<{ id: string }[]>`
        UPDATE approval_request SET state = 'expired', ended_at = ${now}, pending_key = NULL, ${FORGET_KEY}
        WHERE state = 'pending' AND expires_at <= ${now} RETURNING id::text AS id`;
      if (ids.length === 0) return [];
      const rows = await prisma.approvalRequest.findMany({
        where: { id: { in: ids.map((r) => r.id) } },
        include: WITH_VOTES,
      });
      return rows.map(fromRow);
    },
    async abandonStale(olderThanMs, now) {
      const ids = await prisma.$queryRaw<{ id: string }[]>`
        UPDATE approval_request SET state = 'outcome_unknown', ended_at = ${now},
          result_error = 'the instance executing it stopped before recording the outcome; the upstream may or may not have acted', ${FORGET_KEY}
        WHERE state = 'executing' AND claimed_at < now() - make_interval(secs => ${olderThanMs / 1000}) RETURNING id::text AS id`;
      if (ids.length === 0) return [];
      const rows = await prisma.approvalRequest.findMany({
        where: { id: { in: ids.map((r) => r.id) } },
        include: WITH_VOTES,
      });
      return rows.map(fromRow);
    },
  };
}

function fromRow(r: Row): Approval {
  return {
    id: r.id,
    operation: r.operation,
    method: r.method,
    params: r.params as Record<string, string>,
    query: r.query as Record<string, string>,
    body: (r.body as Record<string, unknown> | null) ?? null,
    inputHash: r.inputHash,
    target: r.target,
    applicationId: r.applicationId,
    team: r.team,
    requester: {
      sub: r.requesterSub,
      email: r.requesterEmail,
      name: r.requesterName,
      roles: r.requesterRoles,
      teams: r.requesterTeams,
    },
    reason: r.reason,
    state: r.state as ApprovalState,
    approvalsNeeded: r.approvalsNeeded,
    approverRoles: r.approverRoles,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    endedAt: r.endedAt,
    endedBy: r.endedBy,
    endReason: r.endReason,
    result: { status: r.resultStatus, body: r.resultBody, error: r.resultError },
    votes: r.votes.map((v) => ({
      approverSub: v.approverSub,
      approverEmail: v.approverEmail,
      approverName: v.approverName,
      reason: v.reason,
      at: v.at,
    })),
  };
}
