import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/entry';
import type { Principal } from '../auth/principal';
import { decide, type Policy } from '../policy/policy';
import type { DenialReason } from '../errors/reasons';
import type { Approval } from './store';

/** What the approvers approve: the operation and its validated input, hashed canonically. */
export function inputHash(
  operation: string,
  params: Record<string, string>,
  query: Record<string, string>,
  body: unknown,
): string {
  return createHash('sha256')
    .update(canonicalJson({ operation, params, query, body: body ?? null }))
    .digest('hex');
}

/** Two records of one person: the same subject, or (when both carry one) the same email address. */
export function samePerson(
  a: { sub: string; email?: string | null },
  b: { sub: string; email?: string | null },
): boolean {
  return a.sub === b.sub || (!!a.email && !!b.email && a.email.toLowerCase() === b.email.toLowerCase());
}

/**
 * Why this person may not approve (or deny) the request, or undefined if they may: someone other than the
 * requester, allowed the operation on that target themselves (role, and team scope against the current owner),
 * holding one of the rule's approver roles when it names any.
 */
export function approverRefusal(
  approval: Approval,
  approver: Principal,
  policy: Policy,
  currentOwner: string | null,
): DenialReason | undefined {
  if (samePerson(approval.requester, approver)) return 'self_approval';
  const decision = decide(policy, approver.roles, approval.operation);
  if (!decision.allowed) return decision.reason;
  if (approval.approverRoles.length > 0 && !approver.roles.some((r) => approval.approverRoles.includes(r)))
    return 'not_an_approver';
  if (
    decision.scope === 'team' &&
    approval.applicationId !== null &&
    !(currentOwner !== null && approver.teams.includes(currentOwner))
  )
    return 'not_owner';
  return undefined;
}
