import type { Request, Response } from 'express';
import type { RequestFacts } from '../audit/recording/recorder';

/**
 * The facts the trail records about a request: what the pipeline learned (principal, operation, target, decision,
 * team), where it came from, and — for entries that keep it — its input body. The one place the audit layer's plain
 * data is read off Express.
 */
export function requestFacts(req: Request, res: Response, body?: unknown): RequestFacts {
  const { principal, operation, params, decision, requestId } = res.locals;
  return {
    requestId,
    clientRequestId: res.locals.clientRequestId ?? null,
    actor: principal ?? null,
    clientIp: req.ip ?? null,
    userAgent: req.headers['user-agent'] ?? null,
    operation: operation?.id ?? null,
    method: req.method,
    path: req.originalUrl,
    params,
    body,
    decision: decision ? (decision.allowed ? 'allowed' : 'denied') : null,
    reason: decision?.reason ?? null,
    team: res.locals.team ?? null,
    approvalId: res.locals.approvalId ?? null,
    traceId: res.locals.traceId ?? null,
  };
}
