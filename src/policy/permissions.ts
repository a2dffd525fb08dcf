import { OPERATION_IDS } from '../catalogue/operations';

/** Everything a policy can grant: the 12 Management operations, plus the gateway's own permissions. */
export const GATEWAY_PERMISSIONS = [
  /** See API key values in full in responses; without it they are masked to the last 4 characters. */
  'apikeys.reveal',
  /** Read and verify the audit trail (a `team`-scoped role: only events about its teams' applications). */
  'audit.read',
  /** Read, assign, transfer and import application ownership; list applications without an owner. */
  'ownership.manage',
  /** Break-glass: run a guarded operation at once, with a mandatory reason (flagged in the trail and notified). */
  'approvals.bypass',
] as const;

export const PERMISSIONS: readonly string[] = [...OPERATION_IDS, ...GATEWAY_PERMISSIONS];

/** Granted only by name, never by a wildcard: `*` for an admin must not quietly include break-glass. */
export const EXPLICIT_ONLY: readonly string[] = ['approvals.bypass'];

/** Expands `applications.*`, `*.list` or `*` against the known permissions (never to an explicit-only one). */
export function expandPattern(pattern: string): string[] {
  if (!pattern.includes('*')) return PERMISSIONS.includes(pattern) ? [pattern] : [];
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('[a-z_.]*')}$`);
  return PERMISSIONS.filter((p) => regex.test(p) && !EXPLICIT_ONLY.includes(p));
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
