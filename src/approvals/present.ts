import type { Approval } from './store';

/** An approval request as the API shows it (and notifications summarise it). */
export function presentApproval(a: Approval) {
  return {
    id: a.id,
    state: a.state,
    operation: a.operation,
    method: a.method,
    target: a.target,
    team: a.team,
    requested_by: {
      issuer: a.requester.issuer || null,
      sub: a.requester.sub,
      name: a.requester.name,
      email: a.requester.email,
    },
    reason: a.reason,
    created_at: a.createdAt.toISOString(),
    expires_at: a.expiresAt.toISOString(),
    approvals_needed: a.approvalsNeeded,
    approver_roles: a.approverRoles,
    approvals: a.votes.map((v) => ({
      by: { issuer: v.approverIssuer || null, sub: v.approverSub, name: v.approverName, email: v.approverEmail },
      at: v.at.toISOString(),
      reason: v.reason,
    })),
    // What the approvers approve, as stored (API key values in the path masked; bodies were validated, no secrets).
    input: { query: a.query, body: a.body },
    input_hash: a.inputHash,
    ended_at: a.endedAt?.toISOString() ?? null,
    ended_by: a.endedBy?.sub ?? null,
    ended_by_issuer: a.endedBy ? a.endedBy.issuer || null : null,
    end_reason: a.endReason,
    result:
      a.result.status === null && a.result.error === null ? null : { status: a.result.status, error: a.result.error },
  };
}
