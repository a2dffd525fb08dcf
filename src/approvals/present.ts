import type { Approval } from './store';
import type { TargetName } from './target-names';

/** A person as the approval resource shows one: who they are (issuer, subject), then how they call themselves. */
function person(issuer: string, subject: string, email: string | null, name: string | null) {
  return { issuer: issuer || null, subject, email, name };
}

/**
 * An approval request as the API shows it (and notifications summarise it): who asked and what it would change
 * (issue 24). `name` is the target application's name as the Management API has it when the request is read;
 * answers to actions pass none (`not_read`).
 */
export function presentApproval(a: Approval, name?: TargetName) {
  const targetName: TargetName =
    a.applicationId === null ? { name: null, status: 'not_applicable' } : (name ?? { name: null, status: 'not_read' });
  return {
    id: a.id,
    state: a.state,
    operation: a.operation,
    method: a.method,
    path: a.target,
    target: {
      application_id: a.applicationId,
      name: targetName.name,
      name_status: targetName.status,
      team: a.team,
    },
    team: a.team,
    requested_by: person(a.requester.issuer, a.requester.sub, a.requester.email, a.requester.name),
    reason: a.reason,
    created_at: a.createdAt.toISOString(),
    expires_at: a.expiresAt.toISOString(),
    approvals_needed: a.approvalsNeeded,
    approver_roles: a.approverRoles,
    approvals: a.votes.map((v) => ({
      by: person(v.approverIssuer, v.approverSub, v.approverEmail, v.approverName),
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
