import type { Request, Response } from 'express';
import { z } from 'zod';
import { presentApproval } from '../approvals/present';
import { approverRefusal, mayView, targetOf, voterOf } from '../approvals/rules';
import type { Approvals } from '../approvals/service';
import { ExecutionDeferred } from '../approvals/execute';
import type { ApprovalState } from '../approvals/states';
import type { Approval, ApprovalStore, Viewer } from '../approvals/store';
import type { TargetNames } from '../approvals/target-names';
import { issuerOf, samePerson } from '../auth/person';
import type { Principal } from '../auth/principal';
import { OPERATION_IDS } from '../catalogue/operations';
import { GatewayError } from '../errors/codes';
import type { DenialReason } from '../errors/reasons';
import type { OwnershipStore } from '../ownership/store';
import { decide } from '../policy/decide';
import { roleDecision, type Policy } from '../policy/policy';
import { originOf } from '../pipeline/require-approval';
import { maskApiKeys } from '../secrets/mask';
import type { ActionHandlers } from '../pipeline/handlers';

export interface ApprovalRoutesDeps {
  approvals: Approvals;
  store: ApprovalStore;
  ownership: OwnershipStore;
  /** The same clock the approvals service reads (expiry). */
  clock: () => Date;
  /** The target applications' names, read from the Management API when requests are read (issue 24). */
  names: TargetNames;
}

/** Rows read per query while filling a page; the SQL filter already leaves out nearly every invisible one. */
const MAX_BATCHES = 20;

/**
 * `/v1/approvals`: the two-person rule's requests, as catalogue actions (src/catalogue/actions.ts). Who may see,
 * approve, deny or cancel each request is decided by src/approvals/rules.ts against the request's target as it
 * stands; the state changes and their entries are src/approvals/service.ts's; every refusal is recorded by the
 * one refusal recorder.
 */
export function approvalHandlers(deps: ApprovalRoutesDeps, policy: () => Policy): ActionHandlers {
  return {
    async 'approvals.list'(_req, res) {
      const { state, limit, cursor } = res.locals.actionInput?.query as {
        state?: ApprovalState;
        limit: number;
        cursor?: string;
      };
      await deps.approvals.expireDue();
      const me = principalOf(res);
      const current = policy();
      const viewer = viewerOf(current, me);
      let after = cursor === undefined ? undefined : readCursor(cursor);
      const visible: Approval[] = [];
      let next: string | null = null;
      for (let batch = 0; batch < MAX_BATCHES; batch++) {
        const page = await deps.store.list({ state, viewer, after, limit });
        for (const { approval, owner } of page.rows) {
          after = { createdAt: approval.createdAt, id: approval.id };
          if (mayView(current, me, approval, owner)) visible.push(approval);
          if (visible.length === limit) break;
        }
        const more = page.next !== undefined || page.rows.at(-1)?.approval.id !== after?.id;
        if (visible.length === limit || !more) {
          next = more && after ? writeCursor(after) : null;
          break;
        }
        if (batch === MAX_BATCHES - 1 && after) next = writeCursor(after);
      }
      const names = await deps.names.read(visible.flatMap((a) => (a.applicationId === null ? [] : [a.applicationId])));
      res.set('Cache-Control', 'no-store').json({
        approvals: visible.map((a) => presentApproval(a, names.get(a.applicationId ?? ''))),
        next_cursor: next,
      });
    },

    async 'approvals.get'(req, res) {
      await deps.approvals.expireDue();
      const { approval } = await visibleApproval(deps, policy(), req, res);
      const names = await deps.names.read(approval.applicationId === null ? [] : [approval.applicationId]);
      res.set('Cache-Control', 'no-store').json({
        approval: presentApproval(approval, names.get(approval.applicationId ?? '')),
        result_body: approval.result.body === null ? null : parseBody(Buffer.from(approval.result.body)),
      });
    },

    async 'approvals.approve'(req, res) {
      const { reason } = res.locals.actionInput?.body as { reason?: string };
      const { approval, owner } = await actionable(deps, policy(), req, res);
      const me = principalOf(res);
      const voted = approval.votes.some((v) => samePerson(voterOf(v), me));
      if (approval.state !== 'pending' && !voted) throw notPending(approval);
      if (approval.state === 'pending' && !voted)
        refuseUnless(res, approverRefusal(policy(), approval, me, owner), approval);
      let outcome;
      try {
        outcome =
          approval.state === 'pending'
            ? await deps.approvals.approve(originOf(req, res), me, approval, owner, reason ?? null)
            : { approval, counted: false, execution: undefined };
      } catch (err) {
        throw err instanceof ExecutionDeferred ? err.cause : err;
      }
      const { approval: after, counted, execution } = outcome;
      if (!counted && !voted) {
        if (after.state !== 'pending') throw notPending(after);
        refuseUnless(res, 'already_approved', after);
      }
      const reveal = decide(policy(), me, 'apikeys.reveal', targetOf(after, owner)).allowed;
      const upstream = execution?.response
        ? {
            status: execution.response.status,
            body: parseBody(reveal ? execution.response.body : maskApiKeys(execution.response.body)),
          }
        : execution?.error
          ? { status: null, error: execution.error.code, reason: execution.error.reason }
          : undefined;
      res
        .set('Cache-Control', 'no-store')
        .json({ approval: presentApproval(after), ...(upstream ? { upstream } : {}) });
    },

    async 'approvals.deny'(req, res) {
      const { reason } = res.locals.actionInput?.body as { reason: string };
      const { approval, owner } = await actionable(deps, policy(), req, res);
      if (approval.state !== 'pending') throw notPending(approval);
      refuseUnless(res, approverRefusal(policy(), approval, principalOf(res), owner), approval);
      const ended = await deps.approvals.end(originOf(req, res), approval, 'denied', principalOf(res), reason);
      if (!ended) throw notPending((await deps.store.get(approval.id)) as Approval);
      res.set('Cache-Control', 'no-store').json({ approval: presentApproval(ended) });
    },

    async 'approvals.cancel'(req, res) {
      const { reason } = res.locals.actionInput?.body as { reason?: string };
      const { approval } = await actionable(deps, policy(), req, res);
      const me = principalOf(res);
      if (!samePerson(approval.requester, me)) {
        res.locals.decision = { allowed: false, reason: 'not_requester' };
        throw new GatewayError('forbidden', 'Only the person who asked may cancel a request.', [
          { reason: 'not_requester' },
        ]);
      }
      if (approval.state !== 'pending') throw notPending(approval);
      const ended = await deps.approvals.end(originOf(req, res), approval, 'cancelled', me, reason ?? null);
      if (!ended) throw notPending((await deps.store.get(approval.id)) as Approval);
      res.set('Cache-Control', 'no-store').json({ approval: presentApproval(ended) });
    },
  };
}

function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new Error('approval actions run after authenticate');
  return principal;
}

/** What SQL needs to narrow a listing to what this person may see (the rule then decides each row). */
function viewerOf(policy: Policy, me: Principal): Viewer {
  const reader = roleDecision(policy, me.roles, 'audit.read');
  const scoped = (scope: 'any' | 'team') =>
    OPERATION_IDS.filter((op) => {
      const d = roleDecision(policy, me.roles, op);
      return d.allowed && d.scope === scope;
    });
  return {
    issuer: issuerOf(me),
    sub: me.sub,
    roles: [...me.roles],
    teams: [...me.teams],
    auditRead: reader.allowed ? reader.scope : null,
    operationsAny: scoped('any'),
    operationsTeam: scoped('team'),
  };
}

async function visibleApproval(
  deps: ApprovalRoutesDeps,
  policy: Policy,
  req: Request,
  res: Response,
): Promise<{ approval: Approval; owner: string | null }> {
  const id = String(res.locals.params?.id ?? req.params.id);
  // The request, its votes and its application's owner now: one read.
  const found = z.uuid().safeParse(id).success ? await deps.store.getWithOwner(id) : undefined;
  const owner = found?.approval.applicationId != null ? found.owner : (found?.approval.team ?? null);
  if (!found || !mayView(policy, principalOf(res), found.approval, owner))
    throw new GatewayError('not_found', 'No such approval request.');
  res.locals.approvalId = found.approval.id;
  res.locals.team = found.approval.team;
  return { approval: found.approval, owner };
}

/**
 * The approval an action names. One past its expiry that the sweep has not marked yet is expired now (its entry
 * written) and refused: an expired request cannot be approved.
 */
async function actionable(deps: ApprovalRoutesDeps, policy: Policy, req: Request, res: Response) {
  let found = await visibleApproval(deps, policy, req, res);
  if (found.approval.state === 'pending' && found.approval.expiresAt <= deps.clock()) {
    await deps.approvals.expireDue();
    found = await visibleApproval(deps, policy, req, res);
  }
  if (found.approval.state === 'expired')
    throw new GatewayError('approval_expired', undefined, [
      { reason: 'approval_expired', expired_at: found.approval.expiresAt.toISOString() },
    ]);
  return found;
}

function refuseUnless(res: Response, refusal: DenialReason | undefined, a: Approval): void {
  if (refusal === undefined) return;
  res.locals.decision = { allowed: false, reason: refusal };
  const message =
    refusal === 'self_approval'
      ? 'You asked for this: someone else must approve or deny it.'
      : refusal === 'already_approved'
        ? 'You have approved this request already, under another account.'
        : `You may not approve ${a.operation} on ${a.target}.`;
  throw new GatewayError('forbidden', message, [{ reason: refusal }]);
}

function notPending(a: Approval): GatewayError {
  return new GatewayError('conflict', `This request is ${a.state}.`, [
    { reason: 'approval_not_pending', state: a.state },
  ]);
}

/** Opaque to clients: where the next page starts (the last request examined: its creation time and id). */
function writeCursor(at: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ c: at.createdAt.toISOString(), i: at.id })).toString('base64url');
}

function readCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { c?: unknown; i?: unknown };
    const createdAt = typeof parsed.c === 'string' ? new Date(parsed.c) : undefined;
    if (createdAt && !Number.isNaN(createdAt.getTime()) && z.uuid().safeParse(parsed.i).success)
      return { createdAt, id: parsed.i as string };
  } catch {
    // refused below
  }
  throw new GatewayError('validation_failed', undefined, [
    { location: 'query', field: 'cursor', code: 'invalid_cursor', message: 'not a cursor from this listing' },
  ]);
}

/** The upstream's answer as JSON when it is JSON (stored answers had their API key values masked before storing). */
function parseBody(body: Buffer): unknown {
  if (body.length === 0) return null;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return body.toString('utf8');
  }
}
