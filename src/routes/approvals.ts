import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { approverRefusal, samePerson } from '../approvals/rules';
import { presentApproval } from '../approvals/present';
import type { Approvals } from '../approvals/service';
import { APPROVAL_STATES, type ApprovalState } from '../approvals/states';
import type { Approval, ApprovalStore } from '../approvals/store';
import type { AuditRecorder } from '../audit/recorder';
import type { Principal } from '../auth/principal';
import { GatewayError } from '../errors/codes';
import type { OwnershipStore } from '../ownership/store';
import { failClosed } from '../pipeline/authorize-target';
import { originOf } from '../pipeline/require-approval';
import { maskApiKeys } from '../secrets/mask';
import { decide, type Policy } from '../policy/policy';
import { parseOrFail } from './parse';
import { refusalsAudited } from './refusals';

export interface ApprovalRoutesDeps {
  approvals: Approvals;
  store: ApprovalStore;
  ownership: OwnershipStore;
  recorder: AuditRecorder;
}

const listQuery = z.strictObject({
  state: z.enum(APPROVAL_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const approveBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });
const denyBody = z.strictObject({ reason: z.string().trim().min(1, 'a reason is required to deny').max(500) });
const body = express.json({ limit: '8kb', strict: true });

/**
 * `/v1/approvals`: the two-person rule's requests. Requesters see their own, approvers what they may approve,
 * holders of `audit.read` all of them (their teams' with a `team` scope). Approve, deny and cancel are recorded in
 * the trail; a refused attempt is recorded too.
 */
export function approvalRoutes(deps: ApprovalRoutesDeps, policy: () => Policy): Router {
  const router = Router();

  router.get('/v1/approvals', async (req, res) => {
    const { state, limit } = parseOrFail(listQuery, req.query, 'query');
    await deps.approvals.expireDue();
    const found = await deps.store.list({ state, limit: 500 });
    const visible: Approval[] = [];
    // The owners of every listed request's application in one read, not one per request.
    const ids = [...new Set(found.map((a) => a.applicationId).filter((id): id is string => id !== null))];
    const owners = await failClosed(() => deps.ownership.ownersOf(ids));
    for (const a of found) if (await mayView(deps, policy(), principalOf(res), a, owners)) visible.push(a);
    res.set('Cache-Control', 'no-store').json({ approvals: visible.slice(0, limit).map(presentApproval) });
  });

  router.get('/v1/approvals/:id', async (req, res) => {
    await deps.approvals.expireDue();
    const approval = await visibleApproval(deps, policy(), req, res);
    res.set('Cache-Control', 'no-store').json({
      approval: presentApproval(approval),
      result_body: approval.result.body === null ? null : parseBody(Buffer.from(approval.result.body)),
    });
  });

  router.post(
    '/v1/approvals/:id/approve',
    body,
    refusalsAudited(deps.recorder, 'approval.approve', async (req, res) => {
      const { reason } = parseOrFail(approveBody, req.body ?? {}, 'body');
      const approval = await actionable(deps, policy(), req, res);
      const me = principalOf(res);
      const voted = approval.votes.some((v) => v.approverSub === me.sub);
      if (approval.state !== 'pending' && !voted) throw notPending(approval);
      if (approval.state === 'pending') await assertMayApprove(deps, policy(), approval, me);
      const { approval: after, execution } =
        approval.state === 'pending'
          ? await deps.approvals.approve(originOf(req, res), me, approval, reason ?? null)
          : { approval, execution: undefined };
      const reveal = decide(policy(), me.roles, 'apikeys.reveal').allowed;
      const upstream = execution?.response
        ? {
            status: execution.response.status,
            body: parseBody(reveal ? execution.response.body : maskApiKeys(execution.response.body)),
          }
        : execution?.error
          ? { status: null, error: execution.error.code }
          : undefined;
      res
        .set('Cache-Control', 'no-store')
        .json({ approval: presentApproval(after), ...(upstream ? { upstream } : {}) });
    }),
  );

  router.post(
    '/v1/approvals/:id/deny',
    body,
    refusalsAudited(deps.recorder, 'approval.deny', async (req, res) => {
      const { reason } = parseOrFail(denyBody, req.body ?? {}, 'body');
      const approval = await actionable(deps, policy(), req, res);
      if (approval.state !== 'pending') throw notPending(approval);
      await assertMayApprove(deps, policy(), approval, principalOf(res));
      const ended = await deps.approvals.end(originOf(req, res), approval, 'denied', principalOf(res), reason);
      if (!ended) throw notPending((await deps.store.get(approval.id)) as Approval);
      res.set('Cache-Control', 'no-store').json({ approval: presentApproval(ended) });
    }),
  );

  router.post(
    '/v1/approvals/:id/cancel',
    body,
    refusalsAudited(deps.recorder, 'approval.cancel', async (req, res) => {
      const approval = await actionable(deps, policy(), req, res);
      const me = principalOf(res);
      if (!samePerson(approval.requester, me))
        throw new GatewayError('forbidden', 'Only the person who asked may cancel a request.', [
          { reason: 'not_requester' },
        ]);
      if (approval.state !== 'pending') throw notPending(approval);
      const ended = await deps.approvals.end(originOf(req, res), approval, 'cancelled', me, null);
      if (!ended) throw notPending((await deps.store.get(approval.id)) as Approval);
      res.set('Cache-Control', 'no-store').json({ approval: presentApproval(ended) });
    }),
  );
  return router;
}

function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new Error('approval routes run after authenticate');
  return principal;
}

async function visibleApproval(
  deps: ApprovalRoutesDeps,
  policy: Policy,
  req: Request,
  res: Response,
): Promise<Approval> {
  const id = String(req.params.id);
  const approval = z.uuid().safeParse(id).success ? await deps.store.get(id) : undefined;
  if (!approval || !(await mayView(deps, policy, principalOf(res), approval)))
    throw new GatewayError('not_found', 'No such approval request.');
  res.locals.approvalId = approval.id;
  res.locals.team = approval.team;
  return approval;
}

/** The approval an action names, after expiring it if its time has come (an expired request cannot be approved). */
async function actionable(deps: ApprovalRoutesDeps, policy: Policy, req: Request, res: Response): Promise<Approval> {
  await deps.approvals.expireDue();
  const approval = await visibleApproval(deps, policy, req, res);
  if (approval.state === 'expired')
    throw new GatewayError('approval_expired', undefined, [
      { reason: 'approval_expired', expired_at: approval.expiresAt.toISOString() },
    ]);
  return approval;
}

/** `owners`, when given, holds the current owner of the request's application (read beforehand, in bulk). */
async function mayView(
  deps: ApprovalRoutesDeps,
  policy: Policy,
  me: Principal,
  a: Approval,
  owners?: ReadonlyMap<string, string>,
): Promise<boolean> {
  if (samePerson(a.requester, me)) return true;
  // Whoever approved or ended it keeps sight of it, also once the target (and so its owner) is gone.
  if (a.votes.some((v) => v.approverSub === me.sub) || a.endedBy === me.sub) return true;
  const reader = decide(policy, me.roles, 'audit.read');
  if (reader.allowed && (reader.scope === 'any' || (a.team !== null && me.teams.includes(a.team)))) return true;
  const owner =
    a.applicationId === null
      ? null
      : owners
        ? (owners.get(a.applicationId) ?? null)
        : ((await failClosed(() => deps.ownership.ownerOf(a.applicationId as string)))?.team ?? null);
  return approverRefusal(a, me, policy, owner) === undefined;
}

async function assertMayApprove(deps: ApprovalRoutesDeps, policy: Policy, a: Approval, me: Principal): Promise<void> {
  const owner = a.applicationId
    ? ((await failClosed(() => deps.ownership.ownerOf(a.applicationId as string)))?.team ?? null)
    : null;
  const refusal = approverRefusal(a, me, policy, owner);
  if (refusal === 'self_approval')
    throw new GatewayError('forbidden', 'You asked for this: someone else must approve or deny it.', [
      { reason: refusal },
    ]);
  if (refusal)
    throw new GatewayError('forbidden', `You may not approve ${a.operation} on ${a.target}.`, [{ reason: refusal }]);
}

function notPending(a: Approval): GatewayError {
  return new GatewayError('conflict', `This request is ${a.state}.`, [
    { reason: 'approval_not_pending', state: a.state as ApprovalState },
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
