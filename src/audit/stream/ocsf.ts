import type { StoredEntry } from '../trail/entry';
import { entryLeafHash } from '../log/leaf';

/**
 * The trail as OCSF events (schema 1.8.0; docs/audit-format.md §5 has the mapping table). Operations are API
 * Activity (6003), sign-ins and refused tokens Authentication (3002); ownership changes and approvals are API
 * Activity too, on the resource they change (see the table). `metadata.uid` is the event id (shared by a call's
 * request and response entries), `metadata.sequence` the trail sequence; what OCSF has no place for (the leaf hash,
 * the chain hash, the entry kind) is under `unmapped`.
 */
export const OCSF_VERSION = '1.8.0';

const API_ACTIVITY = 6003;
const AUTHENTICATION = 3002;
const CATEGORY: Record<number, { uid: number; name: string }> = {
  [API_ACTIVITY]: { uid: 6, name: 'Application Activity' },
  [AUTHENTICATION]: { uid: 3, name: 'Identity & Access Management' },
};
const CLASS_NAME: Record<number, string> = { [API_ACTIVITY]: 'API Activity', [AUTHENTICATION]: 'Authentication' };

/** API Activity's activities, by HTTP method; what is not CRUD is Other (99). */
const API_ACTIVITY_BY_METHOD: Record<string, [number, string]> = {
  POST: [1, 'Create'],
  GET: [2, 'Read'],
  HEAD: [2, 'Read'],
  PUT: [3, 'Update'],
  PATCH: [3, 'Update'],
  DELETE: [4, 'Delete'],
};

/** Actions that are not a forwarded Management call, by their `operation`: the documented choice. */
const ACTION_ACTIVITY: Record<string, [number, string]> = {
  'ownership.assign': [3, 'Update'],
  'approval.request': [1, 'Create'],
  'approval.approve': [3, 'Update'],
  'approval.deny': [3, 'Update'],
  'approval.cancel': [3, 'Update'],
  'approval.expire': [3, 'Update'],
  'approval.outcome_unknown': [3, 'Update'],
};

/** Refusals of a request's credentials: an Authentication failure, not an API call. */
const TOKEN_REFUSALS = new Set(['unauthenticated', 'invalid_token', 'session_ended']);

const SUCCESS = { status_id: 1, status: 'Success' };
const FAILURE = { status_id: 2, status: 'Failure' };

export function ocsfEvent(entry: StoredEntry, product: { name: string; version: string }): Record<string, unknown> {
  const auth = authenticationActivity(entry);
  const classUid = auth ? AUTHENTICATION : API_ACTIVITY;
  const [activityId, activityName] = auth ?? apiActivity(entry);
  const category = CATEGORY[classUid]!;
  const failed = entry.decision === 'denied' || (entry.outcome !== null && entry.outcome !== 'success');
  const base = {
    class_uid: classUid,
    class_name: CLASS_NAME[classUid],
    category_uid: category.uid,
    category_name: category.name,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    type_name: `${CLASS_NAME[classUid]}: ${activityName}`,
    time: Date.parse(entry.at),
    severity_id: severityOf(entry),
    ...(entry.outcome === null && entry.decision === null ? {} : failed ? FAILURE : SUCCESS),
    ...(entry.outcome ? { status_code: entry.outcome } : {}),
    ...(entry.errorCode ? { status_detail: entry.errorCode } : {}),
    message: messageOf(entry),
    metadata: {
      version: OCSF_VERSION,
      product: { name: product.name, vendor_name: product.name, version: product.version },
      uid: entry.eventId,
      sequence: Number(entry.seq),
      correlation_uid: entry.requestId,
      original_time: entry.at,
      event_code: entry.kind,
      log_name: 'audit',
    },
    src_endpoint: entry.clientIp ? { ip: entry.clientIp } : { name: 'gateway' },
    ...(entry.method ? { http_request: httpRequest(entry) } : {}),
    unmapped: {
      sequence: entry.seq.toString(),
      leaf_hash: entryLeafHash(entry).toString('hex'),
      hash: entry.hash.toString('hex'),
      key_id: entry.keyId,
      kind: entry.kind,
      ...(entry.team ? { team: entry.team } : {}),
      ...(entry.approvalId ? { approval_id: entry.approvalId } : {}),
      ...(entry.reason ? { reason: entry.reason } : {}),
      ...(entry.details !== null && entry.details !== undefined ? { details: entry.details } : {}),
    },
  };
  if (auth)
    return {
      ...base,
      user: userOf(entry) ?? { name: 'unknown', type_id: 0 },
      is_remote: true,
      service: { name: product.name },
      auth_protocol_id: 99,
      auth_protocol: entry.operation?.startsWith('session.') ? 'OpenID Connect' : 'Bearer token (JWT)',
    };
  return {
    ...base,
    actor: actorOf(entry),
    api: {
      operation: entry.operation ?? entry.method ?? entry.kind,
      request: { uid: entry.requestId },
      service: { name: 'Kloudless Management API' },
    },
    ...(entry.upstreamStatus !== null ? { http_response: { code: entry.upstreamStatus } } : {}),
    ...(resourcesOf(entry).length > 0 ? { resources: resourcesOf(entry) } : {}),
  };
}

function authenticationActivity(e: StoredEntry): [number, string] | undefined {
  if (e.kind === 'access' && e.operation === 'session.sign_in') return [1, 'Logon'];
  if (e.kind === 'access' && e.operation === 'session.sign_out') return [2, 'Logoff'];
  if (e.kind === 'access' && e.operation === 'session.sign_out_everywhere') return [2, 'Logoff'];
  if (e.kind === 'decision' && e.operation === 'session.sign_in') return [1, 'Logon'];
  if (e.kind === 'decision' && e.errorCode !== null && TOKEN_REFUSALS.has(e.errorCode)) return [1, 'Logon'];
  return undefined;
}

function apiActivity(e: StoredEntry): [number, string] {
  if (e.operation && ACTION_ACTIVITY[e.operation]) return ACTION_ACTIVITY[e.operation]!;
  if (e.kind === 'access') return [2, 'Read'];
  if (e.kind === 'system' || e.kind === 'approval') return [99, 'Other'];
  return (e.method && API_ACTIVITY_BY_METHOD[e.method]) || [99, 'Other'];
}

/** Informational, but a refusal is Low and a failed check of the trail (a `system` entry with ok: false) High. */
function severityOf(e: StoredEntry): number {
  const details = e.details as { ok?: unknown } | null;
  if (e.kind === 'system' && details && details.ok === false) return 4;
  if (e.decision === 'denied' || e.outcome === 'invalid') return 2;
  return 1;
}

function messageOf(e: StoredEntry): string {
  const what = e.operation ?? e.kind;
  const who = e.actorSub ?? (e.kind === 'system' ? 'the gateway' : 'an unauthenticated caller');
  return `${who}: ${what}${e.outcome ? ` (${e.outcome})` : ''}`;
}

function userOf(e: StoredEntry): Record<string, unknown> | undefined {
  if (!e.actorSub) return undefined;
  return {
    uid: e.actorSub,
    ...(e.actorName ? { name: e.actorName } : {}),
    ...(e.actorEmail ? { email_addr: e.actorEmail } : {}),
    ...(e.actorRoles.length > 0 ? { groups: e.actorRoles.map((name) => ({ name })) } : {}),
  };
}

function actorOf(e: StoredEntry): Record<string, unknown> {
  const user = userOf(e);
  return user ? { user } : { app_name: e.kind === 'system' ? 'kloudless-gateway' : 'unauthenticated' };
}

function httpRequest(e: StoredEntry): Record<string, unknown> {
  return {
    http_method: e.method,
    uid: e.requestId,
    ...(e.path ? { url: { path: e.path } } : {}),
    ...(e.userAgent ? { user_agent: e.userAgent } : {}),
  };
}

function resourcesOf(e: StoredEntry): Record<string, unknown>[] {
  return [
    ...(e.applicationId ? [{ uid: e.applicationId, type: 'application' }] : []),
    ...(e.webhookId ? [{ uid: e.webhookId, type: 'webhook' }] : []),
    ...(e.apikeyFingerprint ? [{ uid: e.apikeyFingerprint, type: 'api_key_fingerprint' }] : []),
    ...(e.approvalId ? [{ uid: e.approvalId, type: 'approval_request' }] : []),
  ];
}
