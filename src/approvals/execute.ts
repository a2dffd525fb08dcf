import { perform, type PerformDeps } from '../actions/perform';
import { AuditUnavailable } from '../audit/trail/write-failures';
import type { EntryContent } from '../audit/trail/entry';
import { entryFromFacts } from '../audit/recording/facts';
import type { AuditKeys } from '../audit/trail/keys';
import type { AuditRecorder } from '../audit/recording/recorder';
import { OwnerMoved } from '../audit/trail/store';
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
  /** Why it did not succeed, as data: an error code and its reason (the web layer answers with them). */
  error?: { code: string; reason: string | null };
  /** How the request ended, as stored. */
  state: 'executed' | 'failed';
  result: Approval['result'];
}

/** An execution that did not start: the request went back to pending (the upstream budget, the trail). */
export class ExecutionDeferred extends Error {
  /** `cause`: what stopped it (the budget's refusal, the trail's AuditUnavailable), answered as it would be directly. */
  constructor(override readonly cause: unknown) {
    super((cause as Error)?.message ?? 'the execution did not start');
    this.name = 'ExecutionDeferred';
  }
}

/** The last vote, whose entry is committed with the execution's request entry; taken back if that fails. */
export interface LastVote {
  entry: EntryContent;
  undo(): Promise<void>;
}

const BUDGET_REFUSALS = new Set(['rate_limited', 'rate_limit_unavailable']);

/**
 * Runs a claimed request (state `executing`, so no other instance will). First it is decided again, as things stand
 * now (issue 23, finding 4): `currentOwner` is the application's owner as read by the approving call, or undefined to
 * read it here. Then it goes through the one forward-and-audit path (src/actions/perform.ts), with the shared
 * upstream budget and the same entries as a direct request, filed under the application's owner now; the last
 * vote's entry goes in the same group commit as the request entry. Never retried once sent: a failure ends it
 * `failed`, and a new request is needed.
 */
export async function executeApproved(
  deps: ExecutionDeps,
  approval: Approval,
  requestId: string,
  currentOwner?: string | null,
  lastVote?: LastVote,
): Promise<Execution> {
  const operation = operationById(approval.operation as OperationId);
  const source = typeof approval.body?.source === 'string' ? approval.body.source : undefined;
  let owner: string | null | undefined = currentOwner;
  let sourceOwner: string | null = null;
  try {
    if (owner === undefined && approval.applicationId)
      owner = (await deps.ownership.ownerOf(approval.applicationId))?.team ?? null;
    if (source) sourceOwner = (await deps.ownership.ownerOf(source))?.team ?? null;
  } catch (err) {
    // Not decided, so not run: back to pending until ownership can be read.
    await stopBeforeStarting(deps, approval, lastVote, false);
    throw err;
  }
  const currentTeam = approval.applicationId ? (owner ?? null) : approval.team;
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
  const refusal = executionRefusal(deps.policy(), approval, currentTeam, sourceOwner);
  if (refusal || currentTeam !== approval.team) {
    if (lastVote) await commitVote(deps, approval, lastVote);
    lastVote = undefined;
  }
  if (currentTeam !== approval.team) await recordTargetMoved(deps, approval, currentTeam, requestId);
  if (refusal) {
    await deps.recorder.recordRefusal(
      {
        ...facts,
        decision: 'denied',
        reason: refusal.reason,
        details: { approval_id: approval.id, refused: refusal.who },
      },
      { code: 'forbidden', details: [{ reason: refusal.reason }] },
    );
    const result = { status: null, body: null, error: 'no_longer_allowed' };
    await deps.store.finish(approval.id, 'failed', result, deps.clock());
    return { error: { code: 'forbidden', reason: refusal.reason }, state: 'failed', result };
  }
  let response: UpstreamResponse | undefined;
  let error: Execution['error'];
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
      alongside: lastVote ? [lastVote.entry] : [],
    }));
  } catch (err) {
    const gatewayError = err instanceof GatewayError ? err : undefined;
    // Refused before anything was sent: back to pending; approving again runs it. A spent budget keeps the vote
    // (its entry is committed on its own); a request entry the trail could not take took the vote's with it.
    const budget = gatewayError !== undefined && BUDGET_REFUSALS.has(gatewayError.code);
    // An owner that changed since it was read (issue 26: its request entry was not written) is decided again next time.
    if (
      budget ||
      err instanceof AuditUnavailable ||
      err instanceof OwnerMoved ||
      gatewayError?.code === 'audit_unavailable'
    ) {
      await stopBeforeStarting(deps, approval, lastVote, budget);
      throw new ExecutionDeferred(err);
    }
    const reason = gatewayError?.details[0]?.reason;
    error = { code: gatewayError?.code ?? 'upstream_unavailable', reason: typeof reason === 'string' ? reason : null };
  }
  // The stored result never holds an API key in full: it is kept for the requester to read later.
  const storedBody =
    response && response.body.length > 0
      ? (operation.returnsSecrets ? maskApiKeys(response.body) : response.body).toString('utf8').slice(0, 64 * 1024)
      : null;
  const state = response !== undefined && response.status < 400 ? 'executed' : 'failed';
  const result = { status: response?.status ?? null, body: storedBody, error: error?.code ?? null };
  await deps.store.finish(approval.id, state, result, deps.clock());
  return { response, error, state, result };
}

/** An execution that stops before anything is sent: the request goes back to pending; the last vote stays or goes. */
async function stopBeforeStarting(deps: ExecutionDeps, a: Approval, lastVote: LastVote | undefined, keepVote: boolean) {
  if (lastVote && keepVote) await commitVote(deps, a, lastVote);
  else if (lastVote) await lastVote.undo();
  await deps.store.unclaim(a.id);
}

/** The last vote's entry on its own (the execution will not carry it); a vote whose entry fails is taken back. */
async function commitVote(deps: ExecutionDeps, a: Approval, lastVote: LastVote): Promise<void> {
  try {
    await deps.recorder.commit(lastVote.entry);
  } catch (err) {
    await lastVote.undo();
    await deps.store.unclaim(a.id);
    throw err;
  }
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
