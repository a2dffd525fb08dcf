import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config/load';
import { DEFAULT_APPROVALS, DEFAULT_POLICY } from './default-policy';
import { OPERATIONS } from '../catalogue/operations';

const MUTATING_OPERATIONS: string[] = OPERATIONS.filter((o) => o.mutates).map((o) => o.id);
import { expandPattern, gatewayPermissionsSpelledBy, PERMISSIONS } from './permissions';
import type { DenialReason } from '../errors/reasons';

const ROLE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

const approvalRule = z.strictObject({
  /** How many distinct people other than the requester must approve. 0: not guarded. */
  approvals: z.number().int().min(0).max(10),
  /** Roles an approver must hold (besides being allowed the operation on the target). */
  approvers: z.array(z.string().min(1)).optional(),
  /** Lifetime of a pending request, in seconds (default APPROVAL_TTL_S). */
  ttl_s: z
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .optional(),
});

const policySchema = z.strictObject({
  /** Operation id → its two-person rule. Absent: the built-in rules (applications.delete needs one approval). */
  approvals: z.record(z.string(), approvalRule).optional(),
  roles: z.record(
    z.string(),
    z.strictObject({
      description: z.string().optional(),
      allow: z.array(z.string().min(1)),
      /** `team`: only applications owned by one of the caller's teams (the default); `any`: every application. */
      scope: z.enum(['team', 'any']).optional(),
      /** Raises (or lowers) the per-person budgets for holders of this role; the most generous role wins. */
      rate_limit: z
        .strictObject({ reads: z.number().int().min(1).optional(), writes: z.number().int().min(1).optional() })
        .optional(),
    }),
  ),
});

export type PolicyDocument = z.infer<typeof policySchema>;

/** Which applications a grant reaches: those owned by the caller's teams, or all of them. */
export type Scope = 'team' | 'any';
/** A role that does not say is limited to its teams' applications: forgetting `scope` never widens access. */
export const DEFAULT_SCOPE: Scope = 'team';

/** A guarded operation's rule, compiled. */
export interface ApprovalRule {
  needed: number;
  approverRoles: string[];
  ttlS?: number;
}

export interface Policy {
  /** Guarded operation id → its rule (operations not listed forward at once). */
  readonly approvals: ReadonlyMap<string, ApprovalRule>;
  /** role → permissions it grants, wildcards expanded. */
  readonly grants: ReadonlyMap<string, ReadonlySet<string>>;
  /** role → the scope of its grants. */
  readonly scopes: ReadonlyMap<string, Scope>;
  readonly document: PolicyDocument;
  /** What start-up and every reload log as warnings (a wildcard that no longer grants a gateway permission). */
  readonly warnings: readonly string[];
}

/** A decision and the stable reason id recorded with it (in logs, and in the audit trail). */
export type Decision =
  | { allowed: true; reason: 'role_grants_permission'; role: string; scope: Scope }
  | { allowed: false; reason: DenialReason };

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
  const warnings: string[] = [];
  const grants = new Map<string, Set<string>>();
  const scopes = new Map<string, Scope>();
  for (const [role, { allow, scope }] of Object.entries(parsed.data.roles)) {
    scopes.set(role, scope ?? DEFAULT_SCOPE);
    if (!ROLE_NAME.test(role))
      problems.push(`${source}: roles."${role}": role names are 1-64 letters, digits, "_", ".", ":" or "-"`);
    const granted = new Set<string>();
    for (const pattern of allow) {
      const expanded = expandPattern(pattern);
      if (expanded.length === 0 && gatewayPermissionsSpelledBy(pattern).length === 0)
        problems.push(`${source}: roles.${role}.allow: "${pattern}" names no known permission`);
      expanded.forEach((p) => granted.add(p));
      for (const spelled of gatewayPermissionsSpelledBy(pattern))
        if (!allow.includes(spelled))
          warnings.push(
            `${source}: roles.${role}.allow: "${pattern}" does not grant ${spelled} (wildcards reach Management operations only); name it to grant it`,
          );
    }
    grants.set(role, granted);
  }
  if (problems.length > 0) throw new ConfigError([...problems, `known permissions: ${PERMISSIONS.join(', ')}`]);
  const approvals = compileApprovals(parsed.data.approvals ?? DEFAULT_APPROVALS, grants, source);
  return { grants, scopes, approvals, document: parsed.data, warnings };
}

function compileApprovals(
  rules: Record<string, z.infer<typeof approvalRule>>,
  grants: Map<string, Set<string>>,
  source: string,
): Map<string, ApprovalRule> {
  const problems: string[] = [];
  const compiled = new Map<string, ApprovalRule>();
  for (const [operation, rule] of Object.entries(rules)) {
    if (!MUTATING_OPERATIONS.includes(operation))
      problems.push(
        `${source}: approvals."${operation}": only the Management operations that change something can be guarded (${MUTATING_OPERATIONS.join(', ')})`,
      );
    for (const role of rule.approvers ?? [])
      if (!grants.has(role))
        problems.push(`${source}: approvals."${operation}".approvers: no role "${role}" in this policy`);
    if (rule.approvals > 0)
      compiled.set(operation, {
        needed: rule.approvals,
        approverRoles: rule.approvers ?? [],
        ...(rule.ttl_s ? { ttlS: rule.ttl_s } : {}),
      });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return compiled;
}

export function loadPolicy(file: string | undefined): Policy {
  // The built-in admin role leaves approvals.bypass out on purpose (break-glass is granted by name only): warning
  // about that at every start would teach operators to ignore the warning meant for their own policy files.
  if (!file) return { ...compilePolicy(DEFAULT_POLICY, 'built-in policy'), warnings: [] };
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
    throw new ConfigError([
      `POLICY_FILE: ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    ]);
  }
  return compilePolicy(document, file);
}

/**
 * The role half of a decision (src/policy/decide.ts adds the target): allowed only when one of the caller's roles
 * grants the permission. The widest scope among the
 * roles that grant it applies (a role granting it with `any` is named over one granting it with `team`).
 */
export function roleDecision(policy: Policy, roles: readonly string[], permission: string): Decision {
  if (roles.length === 0) return { allowed: false, reason: 'no_roles_in_token' };
  const granting = roles.filter((r) => policy.grants.get(r)?.has(permission));
  if (granting.length === 0) return { allowed: false, reason: 'no_role_grants_permission' };
  const role = granting.find((r) => policy.scopes.get(r) === 'any') ?? (granting[0] as string);
  return { allowed: true, reason: 'role_grants_permission', role, scope: policy.scopes.get(role) ?? DEFAULT_SCOPE };
}

/** The per-window budget of a caller: the largest any of its roles sets, else the configured default. */
export function budgetOf(policy: Policy, roles: readonly string[], kind: 'reads' | 'writes', fallback: number): number {
  const set = roles
    .map((r) => policy.document.roles[r]?.rate_limit?.[kind])
    .filter((n): n is number => n !== undefined);
  return set.length > 0 ? Math.max(...set) : fallback;
}

export function permissionsOf(policy: Policy, roles: readonly string[]): string[] {
  return PERMISSIONS.filter((p) => roles.some((r) => policy.grants.get(r)?.has(p)));
}
