/**
 * The states an approval request goes through, declared once (issue 14; the console and the next issues read them).
 *   pending ──approve (last needed)──▶ executing ──▶ executed | failed
 *      │                                   └──(crash; recovery)──▶ outcome_unknown
 *      ├──deny──▶ denied     ├──cancel──▶ cancelled     └──expiry──▶ expired
 * Only `pending` can change by people; `executing` is claimed by exactly one instance and never executed again.
 */
export const APPROVAL_STATES = [
  'pending',
  'executing',
  'executed',
  'failed',
  'denied',
  'cancelled',
  'expired',
  'outcome_unknown',
] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** States a request never leaves. */
export const FINAL_STATES: readonly ApprovalState[] = [
  'executed',
  'failed',
  'denied',
  'cancelled',
  'expired',
  'outcome_unknown',
];
