import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { entryFromFacts, type EntryFacts } from '../audit/recording/facts';
import { canonicalEmail, issuerOf } from '../auth/person';
import type { Principal } from '../auth/principal';
import type { ApprovalRule } from '../policy/policy';
import { executeApproved, type Execution, type ExecutionDeps } from './execute';
import type { Notifier } from './notify';
import { inputHash } from './rules';
import type { Approval, Vote } from './store';

export interface ApprovalsDeps extends ExecutionDeps {
  notifier: Notifier;
  logger: Logger;
  defaultTtlS: number;
}

/** Where a lifecycle entry comes from: the person and the HTTP request, or the gateway itself. */
export interface Origin {
  actor: Principal | null;
  requestId: string;
  clientIp?: string | null;
  userAgent?: string | null;
  method?: string | null;
  path?: string | null;
}

export interface GuardedCall {
  operation: string;
  method: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** The path below /v1, key values masked. */
  target: string;
  team: string | null;
  reason: string | null;
}

/**
 * The two-person rule's state changes. Each changes the request first, conditionally (so of two racing people
 * exactly one changes it), then commits its audit entry; a change whose entry cannot be committed is undone. So
 * the trail holds an `approval.*` entry for every change that happened and for no other (issue 23, finding 7).
 * Who may do what is decided by the caller, with src/approvals/rules.ts.
 */
export function createApprovals(deps: ApprovalsDeps) {
  const lifecycle = (
    origin: Origin,
    a: Approval,
    operation: string,
    details: Record<string, unknown>,
    body?: unknown,
  ): EntryFacts => ({
    kind: 'approval',
    requestId: origin.requestId,
    actor: origin.actor,
    clientIp: origin.clientIp,
    userAgent: origin.userAgent,
    method: origin.method,
    path: origin.path,
    operation,
    decision: 'allowed',
    params: a.params,
    body,
    details: {
      approval_id: a.id,
      operation: a.operation,
      requested_by: { issuer: a.requester.issuer, sub: a.requester.sub },
      ...details,
    },
    team: a.team,
    approvalId: a.id,
  });
  const record = (facts: EntryFacts) => deps.recorder.commit(entryFromFacts(deps.keys, facts));
  const system = (a: Approval, operation: string, details: Record<string, unknown>) =>
    deps.recorder.commitQuietly(
      entryFromFacts(deps.keys, lifecycle({ actor: null, requestId: 'system' }, a, operation, details)),
    );

  return {
    /** Records a guarded call as a pending request (row, then its entry; without the entry, no request). */
    async request(origin: Origin, requester: Principal, call: GuardedCall, rule: ApprovalRule): Promise<Approval> {
      await this.expireDue();
      const now = deps.clock();
      const approval = await deps.store.create({
        id: randomUUID(),
        operation: call.operation,
        method: call.method,
        params: call.params,
        query: call.query,
        body: call.body ?? null,
        inputHash: inputHash(call.operation, call.params, call.query, call.body),
        target: call.target,
        applicationId: call.params.application_id ?? null,
        team: call.team,
        requester: {
          issuer: issuerOf(requester),
          sub: requester.sub,
          email: requester.email ?? null,
          name: requester.name ?? null,
          roles: [...requester.roles],
          teams: [...requester.teams],
        },
        reason: call.reason,
        approvalsNeeded: rule.needed,
        approverRoles: rule.approverRoles,
        createdAt: now,
        expiresAt: new Date(now.getTime() + (rule.ttlS ?? deps.defaultTtlS) * 1000),
      });
      try {
        await record({
          ...lifecycle(
            origin,
            approval,
            'approval.request',
            { approvals_needed: rule.needed, expires_at: approval.expiresAt.toISOString(), reason: call.reason },
            call.body,
          ),
          reason: 'approval_required',
        });
      } catch (err) {
        await deps.store.end(
          approval.id,
          'cancelled',
          { issuer: '', sub: 'gateway' },
          'the audit entry could not be written',
          deps.clock(),
        );
        throw err;
      }
      deps.notifier.notify('approval.requested', approval);
      return approval;
    },

    /**
     * Counts one approval and, if it was the last one needed, claims and runs the request, the vote and the claim in
     * one statement. The vote's entry is committed with the execution's request entry (or on its own when nothing
     * runs); a vote whose entry cannot be committed is taken back. `counted` is false when this person had already
     * approved or the request ended meanwhile: nothing was recorded. `owner` is the application's owner as the caller
     * read it with the request. An approving call costs five statements: the read, the vote and claim, the two
     * entries in one group and the outcome entry, and the final state.
     */
    async approve(
      origin: Origin,
      approver: Principal,
      approval: Approval,
      owner: string | null,
      reason: string | null,
    ): Promise<{ approval: Approval; counted: boolean; execution?: Execution }> {
      const vote: Vote = {
        approverIssuer: issuerOf(approver),
        approverSub: approver.sub,
        approverRoles: [...approver.roles],
        approverTeams: [...approver.teams],
        approverEmail: approver.email ?? null,
        approverName: approver.name ?? null,
        reason,
        at: deps.clock(),
      };
      const { counted, claimed } = await deps.store.voteAndClaim(
        approval.id,
        vote,
        canonicalEmail(approver.email) ?? null,
        deps.clock(),
      );
      if (!counted && !claimed) return { approval: (await deps.store.get(approval.id)) as Approval, counted };
      const withVote: Approval = { ...approval, votes: counted ? [...approval.votes, vote] : approval.votes };
      const lastVote = counted
        ? {
            entry: entryFromFacts(
              deps.keys,
              lifecycle(origin, approval, 'approval.approve', { reason, approvals_so_far: withVote.votes.length }),
            ),
            undo: () => deps.store.removeVote(approval.id, vote),
          }
        : undefined;
      if (!claimed) {
        if (lastVote) {
          try {
            await deps.recorder.commit(lastVote.entry);
          } catch (err) {
            await lastVote.undo();
            throw err;
          }
        }
        return { approval: withVote, counted };
      }
      const execution = await executeApproved(
        deps,
        { ...withVote, state: 'executing' },
        origin.requestId,
        approval.applicationId ? owner : undefined,
        lastVote,
      );
      const ended: Approval = { ...withVote, state: execution.state, endedAt: deps.clock(), result: execution.result };
      deps.notifier.notify('approval.ended', ended);
      return { approval: ended, counted, execution };
    },

    /** pending → denied or cancelled, then its entry (undone if the entry fails); undefined if it was no longer pending. */
    async end(
      origin: Origin,
      approval: Approval,
      state: 'denied' | 'cancelled',
      by: Principal,
      reason: string | null,
    ): Promise<Approval | undefined> {
      if (!(await deps.store.end(approval.id, state, { issuer: issuerOf(by), sub: by.sub }, reason, deps.clock())))
        return undefined;
      try {
        await record(lifecycle(origin, approval, state === 'denied' ? 'approval.deny' : 'approval.cancel', { reason }));
      } catch (err) {
        await deps.store
          .reopen(approval, state)
          .catch((reopenErr: unknown) =>
            deps.logger.error(
              { err: { message: (reopenErr as Error).message }, approval_id: approval.id },
              'approval ended without its audit entry, and could not be reopened',
            ),
          );
        throw err;
      }
      const ended = (await deps.store.get(approval.id)) as Approval;
      deps.notifier.notify('approval.ended', ended);
      return ended;
    },

    /** Pending requests past their expiry become `expired`, each with an entry and a notification. */
    async expireDue(): Promise<Approval[]> {
      const expired = await deps.store.expireDue(deps.clock());
      for (const a of expired) {
        await system(a, 'approval.expire', { expired_at: a.expiresAt.toISOString() });
        deps.notifier.notify('approval.ended', a);
      }
      return expired;
    },

    /** Executions an instance claimed and never finished (it died): outcome_unknown, never executed again. */
    async abandonStale(olderThanMs: number): Promise<Approval[]> {
      const abandoned = await deps.store.abandonStale(olderThanMs, deps.clock());
      for (const a of abandoned) {
        await system(a, 'approval.outcome_unknown', { reason: a.result.error });
        deps.notifier.notify('approval.ended', a);
      }
      return abandoned;
    },

    /** Break-glass: an entry flagging that a guarded operation runs without approval, with its reason. */
    async bypass(origin: Origin, call: GuardedCall, reason: string): Promise<void> {
      await record({
        kind: 'approval',
        requestId: origin.requestId,
        actor: origin.actor,
        clientIp: origin.clientIp,
        userAgent: origin.userAgent,
        method: origin.method,
        path: origin.path,
        operation: 'approval.bypass',
        decision: 'allowed',
        params: call.params,
        details: { operation: call.operation, target: call.target, reason },
        reason: 'approval_bypassed',
        team: call.team,
        approvalId: null,
      });
      deps.notifier.notifyBypass({
        by: origin.actor?.sub ?? 'unknown',
        operation: call.operation,
        target: call.target,
        team: call.team,
        reason,
      });
    },
  };
}

export type Approvals = ReturnType<typeof createApprovals>;
