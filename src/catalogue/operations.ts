import type { z } from 'zod';
import * as s from './schemas';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export const OPERATION_IDS = [
  'applications.list',
  'applications.create',
  'applications.get',
  'applications.update',
  'applications.delete',
  'apikeys.list',
  'apikeys.create',
  'apikeys.delete',
  'webhooks.list',
  'webhooks.create',
  'webhooks.get',
  'webhooks.delete',
] as const;

export type OperationId = (typeof OPERATION_IDS)[number];

export interface Operation {
  id: OperationId;
  method: HttpMethod;
  /** Path template below `/v1`, in the reference's spelling. */
  path: string;
  summary: string;
  /** Mutations are audited before they are forwarded. */
  mutates: boolean;
  query: z.ZodType<Record<string, unknown>>;
  /** Absent: the operation takes no body. */
  body?: z.ZodType<Record<string, unknown>>;
  /** Path parameters that are credentials: never logged or stored in clear. */
  secretParams: string[];
  /** Responses carry API key values: never cached. */
  returnsSecrets: boolean;
  /** A further permission some inputs need, checked once the body is validated. */
  inputPermission?: (body: Record<string, unknown> | undefined) => string | undefined;
}

const APP = '/applications/{application_id}';

const op = (o: Omit<Operation, 'secretParams' | 'returnsSecrets' | 'query'> & Partial<Operation>): Operation => ({
  query: s.noQuery,
  secretParams: [],
  returnsSecrets: false,
  ...o,
});

/** The 12 Management operations. Routing, validation, permissions, audit and API docs all read this table. */
export const OPERATIONS: readonly Operation[] = [
  op({
    id: 'applications.list',
    method: 'GET',
    path: '/applications',
    summary: 'List applications',
    mutates: false,
    query: s.applicationsListQuery,
  }),
  op({
    id: 'applications.create',
    method: 'POST',
    path: '/applications',
    summary: 'Create an application',
    mutates: true,
    body: s.applicationCreateBody,
    // With `source`, the upstream copies the template's keys to the new application: that creates credentials.
    inputPermission: (body) => (body?.source !== undefined ? 'apikeys.create' : undefined),
  }),
  op({ id: 'applications.get', method: 'GET', path: APP, summary: 'Retrieve an application', mutates: false }),
  op({
    id: 'applications.update',
    method: 'PATCH',
    path: APP,
    summary: 'Update an application',
    mutates: true,
    body: s.applicationUpdateBody,
  }),
  op({ id: 'applications.delete', method: 'DELETE', path: APP, summary: 'Delete an application', mutates: true }),
  op({
    id: 'apikeys.list',
    method: 'GET',
    path: `${APP}/apikeys`,
    summary: 'List API keys',
    mutates: false,
    query: s.paginationQuery,
    returnsSecrets: true,
  }),
  op({
    id: 'apikeys.create',
    method: 'POST',
    path: `${APP}/apikeys`,
    summary: 'Create an API key',
    mutates: true,
    body: s.emptyBody,
    returnsSecrets: true,
  }),
  op({
    id: 'apikeys.delete',
    method: 'DELETE',
    path: `${APP}/apikeys/{apikey_key}`,
    summary: 'Delete an API key',
    mutates: true,
    secretParams: ['apikey_key'],
  }),
  op({
    id: 'webhooks.list',
    method: 'GET',
    path: `${APP}/webhooks`,
    summary: 'List webhooks',
    mutates: false,
    query: s.paginationQuery,
  }),
  op({
    id: 'webhooks.create',
    method: 'POST',
    path: `${APP}/webhooks`,
    summary: 'Create a webhook',
    mutates: true,
    body: s.webhookCreateBody,
  }),
  op({
    id: 'webhooks.get',
    method: 'GET',
    path: `${APP}/webhooks/{webhook_id}`,
    summary: 'Retrieve a webhook',
    mutates: false,
  }),
  op({
    id: 'webhooks.delete',
    method: 'DELETE',
    path: `${APP}/webhooks/{webhook_id}`,
    summary: 'Delete a webhook',
    mutates: true,
  }),
];

export function operationById(id: OperationId): Operation {
  const found = OPERATIONS.find((o) => o.id === id);
  if (!found) throw new Error(`unknown operation ${id}`);
  return found;
}
