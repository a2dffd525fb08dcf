import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config/load';
import { DEFAULT_POLICY } from './default-policy';
import { expandPattern, PERMISSIONS } from './permissions';

const ROLE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

const policySchema = z.strictObject({
  roles: z.record(
    z.string(),
    z.strictObject({
      description: z.string().optional(),
      allow: z.array(z.string().min(1)),
      /** Raises (or lowers) the per-person budgets for holders of this role; the most generous role wins. */
      rate_limit: z.strictObject({ reads: z.number().int().min(1).optional(), writes: z.number().int().min(1).optional() }).optional(),
    }),
  ),
});

export type PolicyDocument = z.infer<typeof policySchema>;

export interface Policy {
  /** role → permissions it grants, wildcards expanded. */
  readonly grants: ReadonlyMap<string, ReadonlySet<string>>;
  readonly document: PolicyDocument;
}

/** A decision and the stable reason id recorded with it (in logs, and in the audit trail). */
export type Decision =
  | { allowed: true; reason: 'role_grants_permission'; role: string }
  | { allowed: false; reason: 'no_roles_in_token' | 'no_role_grants_permission' };

export function compilePolicy(input: unknown, source: string): Policy {
  const roles = (input as { roles?: unknown } | null)?.roles;
  if (roles && typeof roles === 'object' && Object.hasOwn(roles, '__proto__')) {
    throw new ConfigError([`${source}: roles."__proto__": not a usable role name`]);
  }
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const problems: string[] = [];
  const grants = new Map<string, Set<string>>();
  for (const [role, { allow }] of Object.entries(parsed.data.roles)) {
    if (!ROLE_NAME.test(role)) problems.push(`${source}: roles."${role}": role names are 1-64 letters, digits, "_", ".", ":" or "-"`);
    const granted = new Set<string>();
    for (const pattern of allow) {
      const expanded = expandPattern(pattern);
      if (expanded.length === 0) problems.push(`${source}: roles.${role}.allow: "${pattern}" names no known permission`);
      expanded.forEach((p) => granted.add(p));
    }
    grants.set(role, granted);
  }
  if (problems.length > 0) throw new ConfigError([...problems, `known permissions: ${PERMISSIONS.join(', ')}`]);
  return { grants, document: parsed.data };
}

export function loadPolicy(file: string | undefined): Policy {
  if (!file) return compilePolicy(DEFAULT_POLICY, 'built-in policy');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`POLICY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let document: unknown;
  try {
    document = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError([`POLICY_FILE: ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`]);
  }
  return compilePolicy(document, file);
}

/** Default deny: allowed only when one of the caller's roles grants the permission. */
export function decide(policy: Policy, roles: readonly string[], permission: string): Decision {
  if (roles.length === 0) return { allowed: false, reason: 'no_roles_in_token' };
  const role = roles.find((r) => policy.grants.get(r)?.has(permission));
  return role ? { allowed: true, reason: 'role_grants_permission', role } : { allowed: false, reason: 'no_role_grants_permission' };
}

/** The per-window budget of a caller: the largest any of its roles sets, else the configured default. */
export function budgetOf(policy: Policy, roles: readonly string[], kind: 'reads' | 'writes', fallback: number): number {
  const set = roles.map((r) => policy.document.roles[r]?.rate_limit?.[kind]).filter((n): n is number => n !== undefined);
  return set.length > 0 ? Math.max(...set) : fallback;
}

export function permissionsOf(policy: Policy, roles: readonly string[]): string[] {
  return PERMISSIONS.filter((p) => roles.some((r) => policy.grants.get(r)?.has(p)));
}
