import { AuditTimeout, withTimeout } from '../audit/trail/write-failures';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { ApprovalState } from './states';

export interface Requester {
  /** '' for a token without `iss`: a person is (issuer, subject). */
  issuer: string;
  sub: string;
  email: string | null;
  name: string | null;
  roles: string[];
  teams: string[];
}

export interface Vote {
  approverIssuer: string;
  approverSub: string;
  /** The approver's roles and teams when voting: decided again when the request executes. */
  approverRoles: string[];
  approverTeams: string[];
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
  endedBy: { issuer: string; sub: string } | null;
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

/**
 * Who is listing, as much as SQL needs to leave out what they may not see: a superset of what src/approvals/rules.ts
 * decides, which then decides every row (the SQL narrows, the one rule decides).
 */
export interface Viewer {
  issuer: string;
  sub: string;
  roles: string[];
  teams: string[];
  /** Holds `audit.read` with an `any` scope, or a `team` scope (then only its teams' requests). */
  auditRead: 'any' | 'team' | null;
  /** Guarded operations this viewer's roles grant, with an `any` scope and with a `team` scope. */
  operationsAny: string[];
  operationsTeam: string[];
}

export interface ApprovalPage {
  /** Newest first; each with its application's owner now. */
  rows: { approval: Approval; owner: string | null }[];
  /** Where the next page starts, when there may be one. */
  next: { createdAt: Date; id: string } | undefined;
}

export interface ApprovalListFilter {
  state?: ApprovalState;
  viewer: Viewer;
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** Approval requests in Postgres. Every transition is a conditional update: two instances never both make it. */
export interface ApprovalStore {
  create(approval: NewApproval): Promise<Approval>;
  get(id: string): Promise<Approval | undefined>;
  /** The request with its votes and its application's owner now, in one statement. */
  getWithOwner(id: string): Promise<{ approval: Approval; owner: string | null } | undefined>;
  /**
   * Counts a vote and, when it is the last one needed, claims the request for execution (pending → executing), in
   * one statement: `counted` is false when this person (issuer and subject, or canonical email) had voted already
   * or the request is no longer pending; `claimed` is true for the one caller that wins the execution.
   */
  voteAndClaim(
    id: string,
    vote: Vote,
    emailKey: string | null,
    now: Date,
  ): Promise<{ counted: boolean; claimed: boolean }>;
  /** Requests the viewer may see, newest first, filtered before they are limited (issue 23, finding 8). */
  list(filter: ApprovalListFilter): Promise<ApprovalPage>;
  /**
   * Records one approval, only while the request is pending; false if this person (the same issuer and subject, or
   * the same canonical email) has approved already, or the request is no longer pending.
   */
  addVote(id: string, vote: Vote, emailKey: string | null): Promise<boolean>;
  /** Takes back a vote whose audit entry could not be committed (the vote then never happened). */
  removeVote(id: string, vote: Pick<Vote, 'approverIssuer' | 'approverSub'>): Promise<void>;
  /** executing → pending: an execution stopped before anything was recorded or sent (the upstream budget). */
  unclaim(id: string): Promise<void>;
  /** denied | cancelled → pending, as `before` was: a step whose audit entry could not be committed is undone. */
  reopen(before: Approval, state: 'denied' | 'cancelled'): Promise<void>;
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
  end(
    id: string,
    state: 'denied' | 'cancelled',
    by: { issuer: string; sub: string },
    reason: string | null,
    now: Date,
  ): Promise<boolean>;
  /** Every pending request past its expiry becomes expired; returns those this call changed. */
  expireDue(now: Date): Promise<Approval[]>;
  /**
   * Executions claimed more than `olderThanMs` ago (by the database's clock, so instances' clocks do not matter) and
   * never finished (the instance died): outcome_unknown, never run again.
   */
  abandonStale(olderThanMs: number, now: Date): Promise<Approval[]>;
}

const PENDING_KEY_SQL = Prisma.sql`operation || ' ' || target || ' ' || coalesce(team, '') || ' ' || input_hash`;

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
  // One pending request per operation, target, team and input: the same request is not asked twice, while two
  // teams' creates (whose target is the collection) or two different webhooks wait side by side. Spelled again in
  // SQL by unclaim and reopen (PENDING_KEY_SQL).
  const pendingKey = (a: { operation: string; target: string; team: string | null; inputHash: string }) =>
    `${a.operation} ${a.target} ${a.team ?? ''} ${a.inputHash}`;
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
            requesterIssuer: a.requester.issuer,
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
    async list({ state, viewer, after, limit }) {
      const v = viewer;
      const visible = Prisma.sql`(
        (r.requester_issuer = ${v.issuer} AND r.requester_sub = ${v.sub})
        OR (r.ended_by_issuer = ${v.issuer} AND r.ended_by = ${v.sub})
        OR EXISTS (SELECT 1 FROM approval_vote w WHERE w.approval_id = r.id AND w.approver_issuer = ${v.issuer} AND w.approver_sub = ${v.sub})
        OR ${v.auditRead === 'any'}
        OR (${v.auditRead === 'team'} AND (r.team = ANY(${v.teams}::text[]) OR o.team = ANY(${v.teams}::text[])))
        OR ((cardinality(r.approver_roles) = 0 OR r.approver_roles && ${v.roles}::text[]) AND (
          r.operation = ANY(${v.operationsAny}::text[])
          OR (r.operation = ANY(${v.operationsTeam}::text[]) AND (o.team = ANY(${v.teams}::text[])
            OR (r.application_id IS NULL AND r.team = ANY(${v.teams}::text[]))))))
      )`;
      const rows = await prisma.$queryRaw<{ id: string; owner: string | null; created_at: Date }[]>`
        SELECT r.id::text AS id, o.team AS owner, r.created_at FROM approval_request r
        LEFT JOIN application_owner o ON o.application_id = r.application_id AND o.retired_at IS NULL
        WHERE ${state ? Prisma.sql`r.state = ${state}` : Prisma.sql`TRUE`}
          AND ${after ? Prisma.sql`(r.created_at, r.id) < (${after.createdAt}, ${after.id}::uuid)` : Prisma.sql`TRUE`}
          AND ${visible}
        ORDER BY r.created_at DESC, r.id DESC LIMIT ${limit + 1}`;
      const page = rows.slice(0, limit);
      const full = new Map(
        (
          await prisma.approvalRequest.findMany({ where: { id: { in: page.map((r) => r.id) } }, include: WITH_VOTES })
        ).map((row) => [row.id, fromRow(row)]),
      );
      const last = page.at(-1);
      return {
        rows: page.flatMap((r) => {
          const approval = full.get(r.id);
          return approval ? [{ approval, owner: r.owner }] : [];
        }),
        next: rows.length > limit && last ? { createdAt: last.created_at, id: last.id } : undefined,
      };
    },
    async getWithOwner(id) {
      const [row] = await prisma.$queryRaw<RawRow[]>`
        SELECT r.*, o.team AS current_owner,
          COALESCE((SELECT json_agg(v ORDER BY v.at) FROM approval_vote v WHERE v.approval_id = r.id), '[]'::json) AS vote_rows
        FROM approval_request r
        LEFT JOIN application_owner o ON o.application_id = r.application_id AND o.retired_at IS NULL
        WHERE r.id = ${id}::uuid`;
      return row ? { approval: fromRawRow(row), owner: row.current_owner } : undefined;
    },
    async voteAndClaim(id, v, emailKey, now) {
      // The vote holds the row against a concurrent deny or cancel until it commits; the claim counts the votes
      // before this statement plus this one (a statement does not see its own insert).
      const [row] = await prisma.$queryRaw<{ counted: bigint | number; claimed: bigint | number }[]>`
        WITH vote AS (
          INSERT INTO approval_vote (approval_id, approver_issuer, approver_sub, approver_roles, approver_teams,
            approver_email_key, approver_email, approver_name, reason, at)
          SELECT id, ${v.approverIssuer}, ${v.approverSub}, ${v.approverRoles}::text[], ${v.approverTeams}::text[],
            ${emailKey}, ${v.approverEmail}, ${v.approverName}, ${v.reason}, ${v.at}
          FROM approval_request WHERE id = ${id}::uuid AND state = 'pending' FOR UPDATE
          ON CONFLICT DO NOTHING RETURNING 1),
        claim AS (
          UPDATE approval_request SET state = 'executing', pending_key = NULL, claimed_at = now()
          WHERE id = ${id}::uuid AND state = 'pending' AND expires_at > ${now}
            AND (SELECT count(*) FROM approval_vote w WHERE w.approval_id = ${id}::uuid) + (SELECT count(*) FROM vote) >= approvals_needed
          RETURNING 1)
        SELECT (SELECT count(*) FROM vote) AS counted, (SELECT count(*) FROM claim) AS claimed`;
      return { counted: Number(row?.counted) === 1, claimed: Number(row?.claimed) === 1 };
    },
    async addVote(id, v, emailKey) {
      // Only while pending, and holding the row against a concurrent deny or cancel until the vote commits: a vote
      // after the request ended never counts, and one before it is a change that happened.
      const inserted = await prisma.$executeRaw`
        INSERT INTO approval_vote (approval_id, approver_issuer, approver_sub, approver_roles, approver_teams,
          approver_email_key, approver_email, approver_name, reason, at)
        SELECT id, ${v.approverIssuer}, ${v.approverSub}, ${v.approverRoles}::text[], ${v.approverTeams}::text[],
          ${emailKey}, ${v.approverEmail}, ${v.approverName}, ${v.reason}, ${v.at}
        FROM approval_request WHERE id = ${id}::uuid AND state = 'pending' FOR SHARE
        ON CONFLICT DO NOTHING`;
      return inserted === 1;
    },
    async removeVote(id, v) {
      await prisma.$executeRaw`
        DELETE FROM approval_vote WHERE approval_id = ${id}::uuid AND approver_issuer = ${v.approverIssuer} AND approver_sub = ${v.approverSub}`;
    },
    async unclaim(id) {
      await prisma.$executeRaw`
        UPDATE approval_request SET state = 'pending', claimed_at = NULL, pending_key = ${PENDING_KEY_SQL}
        WHERE id = ${id}::uuid AND state = 'executing'`;
    },
    async reopen(before, state) {
      await prisma.$executeRaw`
        UPDATE approval_request SET state = 'pending', ended_at = NULL, ended_by = NULL, ended_by_issuer = NULL,
          end_reason = NULL, params = ${JSON.stringify(before.params)}::jsonb, pending_key = ${PENDING_KEY_SQL}
        WHERE id = ${before.id}::uuid AND state = ${state}`;
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
        UPDATE approval_request SET state = ${state}, ended_at = ${now}, ended_by = ${by.sub}, ended_by_issuer = ${by.issuer},
          end_reason = ${reason}, pending_key = NULL, ${FORGET_KEY}
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

/** A row as `getWithOwner` reads it: the table's columns, the owner now, and the votes as JSON. */
interface RawRow {
  [column: string]: unknown;
  current_owner: string | null;
  vote_rows: Record<string, unknown>[];
}

function fromRawRow(r: RawRow): Approval {
  const text = (c: string) => (r[c] as string | null) ?? null;
  const date = (value: unknown) => (value instanceof Date ? value : new Date(value as string));
  return {
    id: r.id as string,
    operation: r.operation as string,
    method: r.method as string,
    params: r.params as Record<string, string>,
    query: r.query as Record<string, string>,
    body: (r.body as Record<string, unknown> | null) ?? null,
    inputHash: r.input_hash as string,
    target: r.target as string,
    applicationId: text('application_id'),
    team: text('team'),
    requester: {
      issuer: r.requester_issuer as string,
      sub: r.requester_sub as string,
      email: text('requester_email'),
      name: text('requester_name'),
      roles: r.requester_roles as string[],
      teams: r.requester_teams as string[],
    },
    reason: text('reason'),
    state: r.state as ApprovalState,
    approvalsNeeded: r.approvals_needed as number,
    approverRoles: r.approver_roles as string[],
    createdAt: date(r.created_at),
    expiresAt: date(r.expires_at),
    endedAt: r.ended_at == null ? null : date(r.ended_at),
    endedBy: r.ended_by == null ? null : { issuer: text('ended_by_issuer') ?? '', sub: r.ended_by as string },
    endReason: text('end_reason'),
    result: {
      status: (r.result_status as number | null) ?? null,
      body: text('result_body'),
      error: text('result_error'),
    },
    votes: r.vote_rows.map((v) => ({
      approverIssuer: v.approver_issuer as string,
      approverSub: v.approver_sub as string,
      approverRoles: v.approver_roles as string[],
      approverTeams: v.approver_teams as string[],
      approverEmail: (v.approver_email as string | null) ?? null,
      approverName: (v.approver_name as string | null) ?? null,
      reason: (v.reason as string | null) ?? null,
      at: date(v.at),
    })),
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
      issuer: r.requesterIssuer,
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
    endedBy: r.endedBy === null ? null : { issuer: r.endedByIssuer ?? '', sub: r.endedBy },
    endReason: r.endReason,
    result: { status: r.resultStatus, body: r.resultBody, error: r.resultError },
    votes: r.votes.map((v) => ({
      approverIssuer: v.approverIssuer,
      approverSub: v.approverSub,
      approverRoles: v.approverRoles,
      approverTeams: v.approverTeams,
      approverEmail: v.approverEmail,
      approverName: v.approverName,
      reason: v.reason,
      at: v.at,
    })),
  };
}
