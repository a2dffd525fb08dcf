import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/trail/canonical-json';
import { mayBeSamePerson, samePerson, type PersonRef } from '../auth/person';
import { operationById, type OperationId } from '../catalogue/operations';
import type { DenialReason } from '../errors/reasons';
import { decide, type Holder, type Target } from '../policy/decide';
import { roleDecision, type Policy } from '../policy/policy';
import type { Approval, Vote } from './store';

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

/** A person acting on a request: who they are and what they hold. */
export type Person = PersonRef & Holder;

/** What the request's operation touches as it stands now: its application and that application's owner now. */
export function targetOf(a: Approval, currentOwner: string | null): Target {
  if (a.operation === 'applications.create') return { kind: 'new_application', team: a.team ?? '' };
  return a.applicationId === null ? { kind: 'none' } : { kind: 'application', owner: currentOwner };
}

/** The requester as stored with the request: roles and teams as they were when they asked. */
export const requesterOf = (a: Approval): Person => a.requester;

/** An approver as their vote stored them. */
export const voterOf = (v: Vote): Person => ({
  issuer: v.approverIssuer,
  sub: v.approverSub,
  email: v.approverEmail,
  roles: v.approverRoles,
  teams: v.approverTeams,
});

/**
 * Why this person may not approve or deny the request (undefined: they may). One rule, for every route and for
 * the execution: not the requester (the same person by issuer and subject, or by email: src/auth/person.ts); not
 * someone who already voted under another account; allowed the operation itself on the target as it stands now
 * (role, and scope against the current owner, through the one decision); holding one of the rule's approver roles
 * when it names any.
 */
export function approverRefusal(
  policy: Policy,
  approval: Approval,
  approver: Person,
  currentOwner: string | null,
): DenialReason | undefined {
  if (mayBeSamePerson(approval.requester, approver)) return 'self_approval';
  const other = approval.votes.find((v) => !samePerson(voterOf(v), approver) && mayBeSamePerson(voterOf(v), approver));
  if (other) return 'already_approved';
  const decision = decide(policy, approver, approval.operation, targetOf(approval, currentOwner));
  if (!decision.allowed) return decision.reason;
  if (approval.approverRoles.length > 0 && !approver.roles.some((r) => approval.approverRoles.includes(r)))
    return 'not_an_approver';
  return undefined;
}

/**
 * Whether this person may see the request: the requester, whoever voted on it or ended it, a reader of the trail
 * for the request's team (as requested, or as its application is owned now), or someone who may approve it.
 */
export function mayView(policy: Policy, viewer: Person, a: Approval, currentOwner: string | null): boolean {
  if (samePerson(a.requester, viewer)) return true;
  if (a.votes.some((v) => samePerson(voterOf(v), viewer))) return true;
  if (a.endedBy && samePerson(a.endedBy, viewer)) return true;
  const teams = [a.team, currentOwner].filter((t): t is string => t !== null);
  const reader = roleDecision(policy, viewer.roles, 'audit.read');
  if (reader.allowed && (reader.scope === 'any' || teams.some((t) => viewer.teams.includes(t)))) return true;
  const refusal = approverRefusal(policy, a, viewer, currentOwner);
  return refusal === undefined || refusal === 'self_approval' || refusal === 'already_approved';
}

/**
 * A request decided again when it runs (issue 23, finding 4): the requester must still be allowed the operation on
 * the target as it stands (its owner now; a create's template as it is owned now), and enough of the counted
 * approvers must still be allowed to approve it. The first reason it may not run, or undefined.
 */
export function executionRefusal(
  policy: Policy,
  a: Approval,
  currentOwner: string | null,
  sourceOwner: string | null,
): { reason: DenialReason; who: 'requester' | 'approvers' } | undefined {
  const requester = requesterOf(a);
  const asked = decide(policy, requester, a.operation, targetOf(a, currentOwner));
  if (!asked.allowed) return { reason: asked.reason, who: 'requester' };
  const further = operationById(a.operation as OperationId).inputPermission?.(a.body ?? undefined);
  if (further) {
    const source = decide(policy, requester, further, { kind: 'application', owner: sourceOwner });
    if (!source.allowed) return { reason: source.reason, who: 'requester' };
  }
  // Each person counts once (by the same rule as at voting), and only while still allowed to approve it now.
  const counted: Vote[] = [];
  for (const v of a.votes) {
    const voter = voterOf(v);
    if (counted.some((c) => mayBeSamePerson(voterOf(c), voter))) continue;
    if (approverRefusal(policy, { ...a, votes: [] }, voter, currentOwner) === undefined) counted.push(v);
  }
  return counted.length >= a.approvalsNeeded ? undefined : { reason: 'no_longer_allowed', who: 'approvers' };
}
