import type { z } from 'zod';
import * as g from './gateway-schemas';
import { API_PREFIX } from './match';
import { OPERATIONS, type Operation } from './operations';

/** What an action touches, for its decision and for how its refusals are filed. */
export type TargetKind = 'application' | 'approval' | 'audit' | 'none';

/**
 * One row per action the gateway performs (issue 23): the 12 Management operations and the gateway's own. The
 * router, the rate-limit class, the body reader, the permission decision, the refusal entry and the OpenAPI
 * document all read this table.
 */
export interface Action {
  id: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path as the router matches it (`:name` parameters), under /v1. */
  path: string;
  summary: string;
  /**
   * The permission the caller's roles must grant before anything else is read. Null for actions any signed-in
   * person may ask for, decided per target instead (an approval request: requester, approver or reviewer).
   */
  permission: string | null;
  /** Metered as a mutation (the writes budget) and audited as one. */
  mutates: boolean;
  target: TargetKind;
  query?: z.ZodType<Record<string, unknown>>;
  body?: z.ZodType<Record<string, unknown>>;
  /** Largest body read, when not BODY_LIMIT. */
  bodyLimitBytes?: number;
  /** Management operations: the catalogue entry the pipeline forwards. */
  operation?: Operation;
  /** The `operation` its audit entries carry (a refusal's included): the trail's name for the action. */
  auditAction: string;
}

const managementRow = (o: Operation): Action => ({
  id: o.id,
  method: o.method,
  path: `${API_PREFIX}${o.path.replace(/\{(\w+)\}/g, ':$1')}`,
  summary: o.summary,
  permission: o.id,
  mutates: o.mutates,
  target: o.id === 'applications.list' ? 'none' : 'application',
  query: o.query,
  ...(o.body ? { body: o.body } : {}),
  operation: o,
  auditAction: o.id,
});

const row = (a: Omit<Action, 'auditAction'> & { auditAction?: string }): Action => ({
  ...a,
  path: `${API_PREFIX}${a.path}`,
  auditAction: a.auditAction ?? a.id,
});
const audit = (id: string, method: 'GET' | 'POST', path: string, summary: string, extra: Partial<Action> = {}) =>
  row({ id, method, path, summary, permission: 'audit.read', mutates: false, target: 'audit', ...extra });

// An import of 1,000 pairs with the longest ids and team names is about 200 KB.
const IMPORT_BODY_LIMIT = 256 * 1024;
const SMALL_BODY_LIMIT = 8 * 1024;

export const GATEWAY_ACTIONS: readonly Action[] = [
  row({
    id: 'me.read',
    method: 'GET',
    path: '/me',
    summary: 'Who the caller is and what they may do',
    permission: null,
    mutates: false,
    target: 'none',
    query: g.noInput,
  }),
  row({
    id: 'me.sign_out_everywhere',
    method: 'POST',
    path: '/me/sessions/end',
    summary: 'Sign out everywhere: end every browser session of the caller',
    permission: null,
    mutates: true,
    target: 'none',
    query: g.noInput,
    body: g.noInput,
    bodyLimitBytes: SMALL_BODY_LIMIT,
    auditAction: 'session.sign_out_everywhere',
  }),
  row({
    id: 'policy.explain',
    method: 'GET',
    path: '/policy/explain',
    summary: 'Explain a policy decision',
    permission: null,
    mutates: false,
    target: 'none',
    query: g.policyExplainQuery,
  }),
  row({
    id: 'approvals.list',
    method: 'GET',
    path: '/approvals',
    summary: 'List approval requests the caller may see',
    permission: null,
    mutates: false,
    target: 'approval',
    query: g.approvalsListQuery,
  }),
  row({
    id: 'approvals.get',
    method: 'GET',
    path: '/approvals/:id',
    summary: 'Read one approval request',
    permission: null,
    mutates: false,
    target: 'approval',
    query: g.noInput,
  }),
  ...(['approve', 'deny', 'cancel'] as const).map((verb) =>
    row({
      id: `approvals.${verb}`,
      method: 'POST',
      path: `/approvals/:id/${verb}`,
      summary: `${verb[0]?.toUpperCase()}${verb.slice(1)} an approval request`,
      permission: null,
      mutates: true,
      target: 'approval',
      query: g.noInput,
      body: verb === 'approve' ? g.approveBody : verb === 'deny' ? g.denyBody : g.cancelBody,
      bodyLimitBytes: SMALL_BODY_LIMIT,
      // As the trail names the state changes they make.
      auditAction: `approval.${verb}`,
    }),
  ),
  row({
    id: 'ownership.get',
    method: 'GET',
    path: '/ownership/applications/:application_id',
    summary: "Read an application's owner",
    auditAction: 'ownership.read',
    permission: 'ownership.manage',
    mutates: false,
    target: 'application',
    query: g.noInput,
  }),
  row({
    id: 'ownership.assign',
    method: 'PUT',
    path: '/ownership/applications/:application_id',
    summary: 'Assign or transfer an application',
    permission: 'ownership.manage',
    mutates: true,
    target: 'application',
    query: g.noInput,
    body: g.ownershipAssignBody,
    bodyLimitBytes: SMALL_BODY_LIMIT,
  }),
  row({
    id: 'ownership.unowned',
    method: 'GET',
    path: '/ownership/unowned',
    summary: 'List applications no team owns',
    auditAction: 'ownership.read',
    permission: 'ownership.manage',
    mutates: false,
    target: 'none',
    query: g.unownedQuery,
  }),
  row({
    id: 'ownership.import',
    method: 'POST',
    path: '/ownership/import',
    summary: 'Assign many applications at once',
    permission: 'ownership.manage',
    mutates: true,
    target: 'application',
    query: g.noInput,
    body: g.ownershipImportBody,
    bodyLimitBytes: IMPORT_BODY_LIMIT,
  }),
  audit('audit.query', 'GET', '/audit/events', 'Search, page or export the trail', { query: g.auditEventsQuery }),
  audit('audit.read_event', 'GET', '/audit/events/:sequence', 'Read one event with its entries'),
  audit('audit.verify', 'GET', '/audit/verify', 'Verify the trail', { query: g.verifyQuery }),
  audit('audit.lookup_key', 'POST', '/audit/lookup-key', 'Find the entries that name an API key', {
    body: g.lookupKeyBody,
  }),
  audit('audit.checkpoint', 'GET', '/audit/checkpoint', 'The latest signed checkpoint'),
  audit('audit.sign_checkpoint', 'POST', '/audit/checkpoint', 'Sign a checkpoint now'),
  audit('audit.public_key', 'GET', '/audit/public-key', "The log's public key"),
  audit('audit.proof_inclusion', 'GET', '/audit/proof/inclusion', 'An inclusion proof', {
    query: g.inclusionProofQuery,
  }),
  audit('audit.proof_consistency', 'GET', '/audit/proof/consistency', 'A consistency proof', {
    query: g.consistencyProofQuery,
  }),
  audit('audit.export_log', 'GET', '/audit/log/entries', "The log's leaves", { query: g.logEntriesQuery }),
];

/** The browser session's endpoints that act for a signed-in person (outside /v1: the sign-in itself is not one). */
export const SESSION_ACTIONS: readonly Action[] = [
  {
    id: 'session.read',
    method: 'GET',
    path: '/auth/session',
    summary: 'The signed-in person and their session',
    permission: null,
    mutates: false,
    target: 'none',
    auditAction: 'session.read',
  },
  {
    id: 'session.sign_out',
    method: 'POST',
    path: '/auth/logout',
    summary: 'End this browser session',
    permission: null,
    mutates: true,
    target: 'none',
    auditAction: 'session.sign_out',
  },
];

export const MANAGEMENT_ACTIONS: readonly Action[] = OPERATIONS.map(managementRow);

/** Every action, the Management operations first. */
export const ACTIONS: readonly Action[] = [...MANAGEMENT_ACTIONS, ...GATEWAY_ACTIONS, ...SESSION_ACTIONS];

const BY_ID = new Map(ACTIONS.map((a) => [a.id, a]));

export function actionById(id: string): Action {
  const found = BY_ID.get(id);
  if (!found) throw new Error(`unknown action ${id}`);
  return found;
}

/** The Management operation's row. */
export const actionOfOperation = (o: Operation): Action => actionById(o.id);
