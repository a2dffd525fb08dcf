import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { entryFromFacts, type EntryFacts } from '../audit/facts';
import type { AuditKeys } from '../audit/keys';
import type { AuditRecorder } from '../audit/recorder';
import type { Principal } from '../auth/principal';
import type { ApprovalRule } from '../policy/policy';
import type { Upstream } from '../upstream/client';
import { executeApproved, type Execution } from './execute';
import type { Notifier } from './notify';
import { inputHash } from './rules';
import type { Approval, ApprovalStore } from './store';

export interface ApprovalsDeps {
  store: ApprovalStore;
  recorder: AuditRecorder;
  keys: AuditKeys;
  upstream: Upstream;
  notifier: Notifier;
  logger: Logger;
  defaultTtlS: number;
  clock: () => Date;
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

/** The two-person rule's actions. Each commits its audit entry; a failed commit undoes the step or refuses it. */
export function createApprovals(deps: ApprovalsDeps) {
  /** An `approval` entry from where it came from: the person and their HTTP request, or the gateway itself. */
  const fromOrigin = (
    origin: Origin,
    operation: string,
  ): Pick<
    EntryFacts,
    'kind' | 'requestId' | 'actor' | 'clientIp' | 'userAgent' | 'method' | 'path' | 'operation' | 'decision'
  > => ({
    kind: 'approval',
    requestId: origin.requestId,
    actor: origin.actor,
    clientIp: origin.clientIp,
    userAgent: origin.userAgent,
    method: origin.method,
    path: origin.path,
    operation,
    decision: 'allowed',
  });
  const lifecycle = (
    origin: Origin,
    a: Approval,
    operation: string,
    details: Record<string, unknown>,
    body?: unknown,
  ): EntryFacts => ({
    ...fromOrigin(origin, operation),
    params: a.params,
    body,
    details: { approval_id: a.id, operation: a.operation, requested_by: a.requester.sub, ...details },
    team: a.team,
    approvalId: a.id,
  });
  const record = (facts: EntryFacts) => deps.recorder.commit(entryFromFacts(deps.keys, facts));

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
          sub: requester.sub,
          email: requester.email ?? null,
          name: requester.name ?? null,
          roles: requester.roles,
          teams: requester.teams,
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
        await deps.store.end(approval.id, 'cancelled', 'gateway', 'the audit entry could not be written', deps.clock());
        throw err;
      }
      deps.notifier.notify('approval.requested', approval);
      return approval;
    },

    /** Records one approval, then runs the request if it was the last one needed and this instance claims it. */
    async approve(
      origin: Origin,
      approver: Principal,
      approval: Approval,
      reason: string | null,
    ): Promise<{ approval: Approval; execution?: Execution }> {
      if (!approval.votes.some((v) => v.approverSub === approver.sub)) {
        await record(
          lifecycle(origin, approval, 'approval.approve', { reason, approvals_so_far: approval.votes.length + 1 }),
        );
        await deps.store.addVote(approval.id, {
          approverSub: approver.sub,
          approverEmail: approver.email ?? null,
          approverName: approver.name ?? null,
          reason,
          at: deps.clock(),
        });
      }
      if (!(await deps.store.claim(approval.id, deps.clock())))
        return { approval: (await deps.store.get(approval.id)) as Approval };
      const claimed = (await deps.store.get(approval.id)) as Approval;
      const execution = await executeApproved(deps, claimed, origin.requestId);
      const ended = (await deps.store.get(approval.id)) as Approval;
      deps.notifier.notify('approval.ended', ended);
      return { approval: ended, execution };
    },

    /** pending → denied or cancelled, recorded first; false if it had already ended. */
    async end(
      origin: Origin,
      approval: Approval,
      state: 'denied' | 'cancelled',
      by: Principal,
      reason: string | null,
    ): Promise<Approval | undefined> {
      await record(lifecycle(origin, approval, state === 'denied' ? 'approval.deny' : 'approval.cancel', { reason }));
      if (!(await deps.store.end(approval.id, state, by.sub, reason, deps.clock()))) return undefined;
      const ended = (await deps.store.get(approval.id)) as Approval;
      deps.notifier.notify('approval.ended', ended);
      return ended;
    },

    /** Pending requests past their expiry become `expired`, each with an entry and a notification. */
    async expireDue(): Promise<Approval[]> {
      const expired = await deps.store.expireDue(deps.clock());
      for (const a of expired) {
        await deps.recorder.commitQuietly(
          entryFromFacts(
            deps.keys,
            lifecycle({ actor: null, requestId: 'system' }, a, 'approval.expire', {
              expired_at: a.expiresAt.toISOString(),
            }),
          ),
        );
        deps.notifier.notify('approval.ended', a);
      }
      return expired;
    },

    /** Executions an instance claimed and never finished (it died): outcome_unknown, never executed again. */
    async abandonStale(olderThanMs: number): Promise<Approval[]> {
      const abandoned = await deps.store.abandonStale(olderThanMs, deps.clock());
      for (const a of abandoned) {
        await deps.recorder.commitQuietly(
          entryFromFacts(
            deps.keys,
            lifecycle({ actor: null, requestId: 'system' }, a, 'approval.outcome_unknown', { reason: a.result.error }),
          ),
        );
        deps.notifier.notify('approval.ended', a);
      }
      return abandoned;
    },

    /** Break-glass: an entry flagging that a guarded operation runs without approval, with its reason. */
    async bypass(origin: Origin, call: GuardedCall, reason: string): Promise<void> {
      const facts: EntryFacts = {
        ...fromOrigin(origin, 'approval.bypass'),
        params: call.params,
        details: { operation: call.operation, target: call.target, reason },
        reason: 'approval_bypassed',
        team: call.team,
        approvalId: null,
      };
      await record(facts);
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
