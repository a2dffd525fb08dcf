import type { Request, RequestHandler, Response } from 'express';
import type { Approvals, GuardedCall, Origin } from '../approvals/service';
import { presentApproval } from '../approvals/present';
import { PendingExists } from '../approvals/store';
import { GatewayError } from '../errors/codes';
import { redactPath } from '../secrets/mask';
import { decide } from '../policy/decide';
import type { Policy } from '../policy/policy';
import { NO_TARGET, type Target } from '../policy/decide';

const MAX_REASON = 500;

/**
 * The two-person rule: a guarded operation (the policy's `approvals`) is not forwarded; it becomes a pending
 * approval request, answered 202 with its Location. Runs after every other check (authorized, owned, validated),
 * so only a request that could run is stored. A holder of `approvals.bypass` may run it at once with
 * `X-Approval-Bypass: <reason>` (break-glass, recorded and notified).
 */
export function requireApproval(policy: () => Policy, approvals: Approvals): RequestHandler {
  return async (req, res, next) => {
    const { operation, principal, params, input } = res.locals;
    const rule = operation ? policy().approvals.get(operation.id) : undefined;
    if (!rule || !operation || !principal || !params || !input) return next();
    const call: GuardedCall = {
      operation: operation.id,
      method: operation.method,
      params,
      query: input.query,
      body: input.body,
      target: redactPath(`${req.baseUrl}${req.path}`).replace(/\/$/, ''),
      team: res.locals.team ?? null,
      reason: headerText(req, 'x-approval-reason', 'X-Approval-Reason') ?? null,
    };
    const bypass = headerText(req, 'x-approval-bypass', 'X-Approval-Bypass');
    if (bypass !== undefined) {
      const target = targetOf(operation.id, params, res.locals.team ?? null);
      const breakGlass = decide(policy(), principal, 'approvals.bypass', target);
      if (!breakGlass.allowed) {
        res.locals.decision = breakGlass;
        throw new GatewayError('forbidden', 'Running a guarded operation without approval needs approvals.bypass.', [
          { reason: breakGlass.reason, permission: 'approvals.bypass' },
        ]);
      }
      await approvals.bypass(originOf(req, res), call, bypass);
      return next();
    }
    let approval;
    try {
      approval = await approvals.request(originOf(req, res), principal, call, rule);
    } catch (err) {
      if (!(err instanceof PendingExists)) throw err;
      throw new GatewayError(
        'conflict',
        'A request for this operation on this target is already waiting for approval.',
        [{ reason: 'approval_pending', approval_id: err.existingId ?? null }],
        err.existingId ? { location: `/v1/approvals/${err.existingId}` } : {},
      );
    }
    res
      .status(202)
      .set({ Location: `/v1/approvals/${approval.id}`, 'Cache-Control': 'no-store' })
      .json({ approval: presentApproval(approval) });
  };
}

/** What a guarded call touches, as decided on arrival: a create's team, or the application and its owner (or none). */
function targetOf(operation: string, params: Record<string, string>, team: string | null): Target {
  if (operation === 'applications.create') return team === null ? NO_TARGET : { kind: 'new_application', team };
  return params.application_id === undefined ? NO_TARGET : { kind: 'application', owner: team };
}

export function originOf(req: Request, res: Response): Origin {
  return {
    actor: res.locals.principal ?? null,
    requestId: res.locals.requestId,
    clientIp: req.ip ?? null,
    userAgent: req.headers['user-agent'] ?? null,
    method: req.method,
    path: redactPath(req.originalUrl),
  };
}

/** A free-text header (a reason): trimmed, 1-500 characters, printable; anything else is refused, not cut. */
function headerText(req: Request, name: string, display: string): string | undefined {
  const value = req.get(name);
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '' || text.length > MAX_REASON || /[\u0000-\u001f\u007f]/.test(text)) {
    throw new GatewayError('validation_failed', undefined, [
      {
        location: 'header',
        field: display,
        code: 'invalid_reason',
        message: `must be 1-${MAX_REASON} printable characters`,
      },
    ]);
  }
  return text;
}
