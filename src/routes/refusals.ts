import type { Request, Response } from 'express';
import type { AuditRecorder } from '../audit/recorder';
import { GatewayError } from '../errors/codes';
import { requestFacts } from '../pipeline/audit-facts';

/**
 * Wraps a handler of the gateway's own mutations (ownership, approvals) so that a refusal leaves one `decision`
 * entry naming `action`, like a refused Management mutation. audit_unavailable is not recorded: nothing could be.
 */
export function refusalsAudited(
  recorder: AuditRecorder,
  action: string,
  handler: (req: Request, res: Response) => Promise<void>,
) {
  return async (req: Request, res: Response) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (err instanceof GatewayError && err.code !== 'audit_unavailable' && !res.headersSent)
        await recorder.recordRefusal(requestFacts(req, res, req.body), err, action);
      throw err;
    }
  };
}
