import type { PolicyDocument } from './policy';

/** The built-in policy, used when POLICY_FILE is unset. README "Roles and policy" shows it as a matrix. */
export const DEFAULT_POLICY: PolicyDocument = {
  roles: {
    viewer: {
      description: 'Reads applications and webhooks.',
      allow: ['applications.list', 'applications.get', 'webhooks.list', 'webhooks.get'],
    },
    editor: {
      description: 'Viewer, plus creating and updating applications and creating and deleting webhooks.',
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
      description: 'Every operation, including API keys (they are credentials, shown in full) and deleting applications; reads the audit trail.',
      allow: ['*'],
    },
    auditor: {
      description: 'Reads and verifies the audit trail; no Management operation.',
      allow: ['audit.read'],
    },
  },
};
