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

/**
 * Wildcards reach the 12 Management operations only. The gateway's own permissions reveal credentials, open the trail,
 * move applications between teams or skip the two-person rule: each is granted by name, never by `*`, `*.read` or
 * `apikeys.*` (issue 23, finding 11).
 */
const WILDCARD_REACHABLE: readonly string[] = OPERATION_IDS;

/** Expands `applications.*`, `*.list` or `*` against the Management operations; a plain name stands for itself. */
export function expandPattern(pattern: string): string[] {
  if (!pattern.includes('*')) return PERMISSIONS.includes(pattern) ? [pattern] : [];
  const regex = wildcard(pattern);
  return WILDCARD_REACHABLE.filter((p) => regex.test(p));
}

/** The gateway permissions a wildcard matches by its spelling but does not grant (for the start-up warning). */
export function gatewayPermissionsSpelledBy(pattern: string): string[] {
  if (!pattern.includes('*')) return [];
  const regex = wildcard(pattern);
  return GATEWAY_PERMISSIONS.filter((p) => regex.test(p));
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(escapeRegex).join('[a-z_.]*')}$`);
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
