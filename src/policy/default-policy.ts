import type { PolicyDocument } from './policy';

/** Used when a policy has no `approvals` section: deleting an application cuts off every end user connected to it. */
export const DEFAULT_APPROVALS: NonNullable<PolicyDocument['approvals']> = {
  'applications.delete': { approvals: 1 },
};

/** The built-in policy, used when POLICY_FILE is unset. README "Roles and policy" shows it as a matrix. */
export const DEFAULT_POLICY: PolicyDocument = {
  approvals: DEFAULT_APPROVALS,
  roles: {
    viewer: {
      description: "Reads its teams' applications and their webhooks.",
      scope: 'team',
      allow: ['applications.list', 'applications.get', 'webhooks.list', 'webhooks.get'],
    },
    editor: {
      description:
        "Viewer, plus creating applications (owned by its team), updating its teams' applications and creating and deleting their webhooks.",
      scope: 'team',
      allow: [
        'applications.list',
        'applications.get',
        'webhooks.list',
        'webhooks.get',
        'applications.create',
        'applications.update',
        'webhooks.create',
        'webhooks.delete',
      ],
    },
    admin: {
      description:
        'Every operation on every application, including API keys (they are credentials, shown in full), deleting applications and managing ownership; reads the audit trail.',
      // Wildcards reach Management operations only: the gateway's own permissions are named.
      allow: ['*', 'apikeys.reveal', 'audit.read', 'ownership.manage'],
      scope: 'any',
    },
    auditor: {
      description: 'Reads and verifies the whole audit trail; no Management operation.',
      allow: ['audit.read'],
      scope: 'any',
    },
  },
};
