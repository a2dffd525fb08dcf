/**
 * Every reason id a policy or ownership decision records, declared once like the error codes: the audit trail's
 * `reason` column and the error details carry them, the reasons table of docs/access-control.md is checked against this one.
 */
export const DECISION_REASONS = {
  role_grants_permission: 'One of the caller\'s roles grants the permission (the entry names the role\'s scope).',
  no_roles_in_token: 'The token carries no role.',
  no_role_grants_permission: 'None of the caller\'s roles grants the permission.',
  not_owner: 'A `team`-scoped caller named an application owned by another team (answered 404, as if it did not exist).',
  unowned: 'A `team`-scoped caller named an application no team owns, or that does not exist (answered 404).',
  no_team: 'A create by a caller whose token names no team: every application the gateway creates has an owner.',
  team_required: 'A create by a caller in several teams (or an `any`-scoped caller) without `X-Team` naming the owner.',
  not_team_member: '`X-Team` names a team the `team`-scoped caller is not in.',
  unknown_team: 'An ownership change names a team that owns no application and is not one of the caller\'s teams (a typo guard; `allow_new_team` overrides).',
  already_owner: 'An ownership change to the team that already owns the application.',
  approval_required: 'The operation needs a second person\'s approval: it was recorded as an approval request (202), not forwarded.',
  approval_granted: 'The entries of an approved request\'s execution: every needed approval arrived (the approvers are named in the details).',
  approval_bypassed: 'A holder of `approvals.bypass` ran a guarded operation at once, with a reason (break-glass; notified).',
  self_approval: 'The requester (same `sub`, or the same email) tried to approve or deny their own request.',
  not_an_approver: 'The approver holds none of the roles the operation\'s rule names in `approvers`.',
  not_requester: 'Only the person who asked may cancel an approval request.',
  approval_pending: 'A request for the same operation and target is already pending (its id is in the details).',
  approval_not_pending: 'The approval request has already ended (executed, failed, denied or cancelled).',
  approval_expired: 'The approval request expired before it got its approvals.',
} as const;

export type DecisionReason = keyof typeof DECISION_REASONS;
export type DenialReason = Exclude<DecisionReason, 'role_grants_permission'>;
