import type { AuditKeys } from '../audit/keys';
import { entryFromFacts } from '../audit/facts';
import { createdTarget, type AuditRecorder } from '../audit/recorder';
import { nowMicros } from '../audit/entry';
import type { Principal } from '../auth/principal';
import { operationById, type OperationId } from '../catalogue/operations';
import { upstreamPath } from '../catalogue/match';
import { GatewayError } from '../errors/codes';
import { redactPath } from '../secrets/mask';
import { maskApiKeys } from '../secrets/mask';
import type { Upstream, UpstreamResponse } from '../upstream/client';
import type { Approval, ApprovalStore } from './store';

export interface ExecutionDeps {
  store: ApprovalStore;
  recorder: AuditRecorder;
  keys: AuditKeys;
  upstream: Upstream;
  clock: () => Date;
}

export interface Execution {
  /** The upstream's answer, as it came (API key values in full: the caller decides whether to mask). */
  response?: UpstreamResponse;
  error?: GatewayError;
}

/** The requester as the trail names them, from what the request stored. */
function requesterOf(a: Approval): Principal {
  return {
    sub: a.requester.sub,
    email: a.requester.email ?? undefined,
    name: a.requester.name ?? undefined,
    roles: a.requester.roles,
    teams: a.requester.teams,
  };
}

/**
 * Runs a claimed request (state `executing`, so no other instance will) exactly as it was stored: a request entry
 * naming the requester and every approver first, then the upstream call with the DeveloperKey, then the outcome
 * entry, then the final state. Never retried: a failure ends it `failed`, and a new request is needed.
 */
export async function executeApproved(deps: ExecutionDeps, approval: Approval, requestId: string): Promise<Execution> {
  const operation = operationById(approval.operation as OperationId);
  const facts = {
    requestId,
    actor: requesterOf(approval),
    operation: operation.id,
    method: operation.method,
    path: redactPath(`/v1${upstreamPath(operation, approval.params)}`),
    params: approval.params,
    details: {
      approval_id: approval.id,
      approved_by: approval.votes.map((v) => v.approverSub),
      input_hash: approval.inputHash,
    },
    decision: 'allowed' as const,
    reason: 'approval_granted',
    team: approval.team,
    approvalId: approval.id,
  };
  const intent = entryFromFacts(deps.keys, { ...facts, kind: 'request', body: approval.body ?? undefined });
  const started = performance.now();
  try {
    await deps.recorder.commit(intent);
  } catch (err) {
    await deps.store.finish(
      approval.id,
      'failed',
      { status: null, body: null, error: 'audit_unavailable' },
      deps.clock(),
    );
    throw err;
  }
  let response: UpstreamResponse | undefined;
  let error: GatewayError | undefined;
  try {
    response = await deps.upstream.forward({
      method: operation.method,
      path: upstreamPath(operation, approval.params),
      query: approval.query,
      body: approval.body ?? undefined,
      requestId,
    });
  } catch (err) {
    error = err instanceof GatewayError ? err : new GatewayError('upstream_unavailable');
  }
  const outcome = response
    ? response.status < 400
      ? 'success'
      : 'upstream_error'
    : (error?.code ?? 'outcome_unknown');
  const created = createdTarget(operation.id, response, deps.keys);
  await deps.recorder.commitQuietly({
    ...intent,
    ...created,
    kind: 'response',
    at: nowMicros(),
    requestBody: null,
    fingerprints: created.apikeyFingerprint ? [...intent.fingerprints, created.apikeyFingerprint] : intent.fingerprints,
    outcome: outcome as never,
    upstreamStatus: response?.status ?? null,
    errorCode: error?.code ?? null,
    latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
  });
  // The stored result never holds an API key in full: it is kept for the requester to read later.
  const storedBody =
    response && response.body.length > 0
      ? (operation.returnsSecrets ? maskApiKeys(response.body) : response.body).toString('utf8').slice(0, 64 * 1024)
      : null;
  const succeeded = response !== undefined && response.status < 400;
  await deps.store.finish(
    approval.id,
    succeeded ? 'executed' : 'failed',
    { status: response?.status ?? null, body: storedBody, error: error?.code ?? null },
    deps.clock(),
  );
  return { response, error };
}
