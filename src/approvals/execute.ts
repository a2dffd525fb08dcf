import { perform, type PerformDeps } from '../actions/perform';
import { entryFromFacts } from '../audit/facts';
import type { AuditKeys } from '../audit/keys';
import type { AuditRecorder } from '../audit/recorder';
import { upstreamPath } from '../catalogue/match';
import { operationById, type OperationId } from '../catalogue/operations';
import { GatewayError } from '../errors/codes';
import type { OwnershipStore } from '../ownership/store';
import type { Policy } from '../policy/policy';
import { maskApiKeys, redactPath } from '../secrets/mask';
import type { UpstreamResponse } from '../upstream/client';
import { executionRefusal } from './rules';
import type { Approval, ApprovalStore } from './store';

export interface ExecutionDeps {
  store: ApprovalStore;
  recorder: AuditRecorder;
  keys: AuditKeys;
  perform: PerformDeps;
  ownership: OwnershipStore;
  policy: () => Policy;
  clock: () => Date;
}

export interface Execution {
  /** The upstream's answer, as it came (API key values in full: the caller decides whether to mask). */
  response?: UpstreamResponse;
  error?: GatewayError;
}

/** An execution that did not start: the request went back to pending (the upstream budget, the trail). */
export class ExecutionDeferred extends Error {
  constructor(readonly refusal: GatewayError) {
    super(refusal.message);
    this.name = 'ExecutionDeferred';
  }
}

const NOT_STARTED = new Set(['rate_limited', 'rate_limit_unavailable', 'audit_unavailable']);

/**
 * Runs a claimed request (state `executing`, so no other instance will). First it is decided again, as things stand
 * now (issue 23, finding 4); then it goes through the one forward-and-audit path (src/actions/perform.ts), with the
 * shared upstream budget and the same entries as a direct request, filed under the application's owner now. Never
 * retried once sent: a failure ends it `failed`, and a new request is needed.
 */
export async function executeApproved(deps: ExecutionDeps, approval: Approval, requestId: string): Promise<Execution> {
  const operation = operationById(approval.operation as OperationId);
  const source = typeof approval.body?.source === 'string' ? approval.body.source : undefined;
  let owner, sourceOwner;
  try {
    [owner, sourceOwner] = await Promise.all([
      approval.applicationId ? deps.ownership.ownerOf(approval.applicationId) : undefined,
      source ? deps.ownership.ownerOf(source) : undefined,
    ]);
  } catch (err) {
    // Not decided, so not run: back to pending until ownership can be read.
    await deps.store.unclaim(approval.id);
    throw err;
  }
  const currentTeam = approval.applicationId ? (owner?.team ?? null) : approval.team;
  const facts = {
    requestId,
    actor: actorOf(approval),
    operation: operation.id,
    method: operation.method,
    path: redactPath(`/v1${upstreamPath(operation, approval.params)}`),
    params: approval.params,
    team: currentTeam,
    approvalId: approval.id,
  };
  if (currentTeam !== approval.team) await recordTargetMoved(deps, approval, currentTeam, requestId);
  const refusal = executionRefusal(deps.policy(), approval, currentTeam, sourceOwner?.team ?? null);
  if (refusal) {
    await deps.recorder.recordRefusal(
      {
        ...facts,
        decision: 'denied',
        reason: refusal.reason,
        details: { approval_id: approval.id, refused: refusal.who },
      },
      new GatewayError('forbidden', undefined, [{ reason: refusal.reason }]),
    );
    await deps.store.finish(
      approval.id,
      'failed',
      { status: null, body: null, error: 'no_longer_allowed' },
      deps.clock(),
    );
    return {
      error: new GatewayError('forbidden', 'The request is no longer allowed as things stand now.', [
        { reason: refusal.reason },
      ]),
    };
  }
  let response: UpstreamResponse | undefined;
  let error: GatewayError | undefined;
  try {
    ({ response } = await perform(deps.perform, {
      operation,
      params: approval.params,
      query: approval.query,
      body: approval.body ?? undefined,
      facts: {
        ...facts,
        decision: 'allowed',
        reason: 'approval_granted',
        details: {
          approval_id: approval.id,
          approved_by: approval.votes.map((v) => ({ issuer: v.approverIssuer || null, sub: v.approverSub })),
          input_hash: approval.inputHash,
        },
      },
    }));
  } catch (err) {
    const gatewayError = err instanceof GatewayError ? err : undefined;
    // Refused before anything was recorded or sent: back to pending, its votes kept; approving again runs it.
    if (gatewayError && NOT_STARTED.has(gatewayError.code)) {
      await deps.store.unclaim(approval.id);
      throw new ExecutionDeferred(gatewayError);
    }
    error = gatewayError ?? new GatewayError('upstream_unavailable');
  }
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

/** The requester as the trail names them, from what the request stored. */
function actorOf(a: Approval) {
  const r = a.requester;
  return {
    sub: r.sub,
    issuer: r.issuer || undefined,
    email: r.email ?? undefined,
    name: r.name ?? undefined,
    roles: r.roles,
  };
}

/**
 * The application changed hands after the request: its execution's entries are filed under the owner now, and this
 * entry, filed under the team that asked, tells that team's auditors where to look.
 */
async function recordTargetMoved(deps: ExecutionDeps, a: Approval, now: string | null, requestId: string) {
  await deps.recorder.commitQuietly(
    entryFromFacts(deps.keys, {
      kind: 'approval',
      requestId,
      actor: null,
      operation: 'approval.target_moved',
      params: a.params,
      details: { approval_id: a.id, operation: a.operation, requested_team: a.team, current_team: now },
      team: a.team,
      approvalId: a.id,
    }),
  );
}
