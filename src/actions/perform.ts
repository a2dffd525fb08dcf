import type { EntryContent } from '../audit/trail/entry';
import type { AuditRecorder, Intent, RequestFacts } from '../audit/recording/recorder';
import { upstreamPath } from '../catalogue/match';
import type { Operation } from '../catalogue/operations';
import { GatewayError } from '../errors/codes';
import type { BudgetInfo, UpstreamBudget } from '../ratelimit/upstream-budget';
import type { Upstream, UpstreamResponse } from '../upstream/client';
import { withSpan } from '../tracing/tracing';

export interface PerformDeps {
  recorder: AuditRecorder;
  upstream: Upstream;
  budget: UpstreamBudget;
  /** After a forwarded application create, update or delete (the ownership directory's cache). */
  onApplicationsChanged?: () => void;
}

/** A decided Management call: what is forwarded, and the facts its entries record. */
export interface Call {
  operation: Operation;
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** Who, from where, filed under which team and approval; `details` and `reason` for an approved execution. */
  facts: RequestFacts;
  /** Entries committed in one group with the request entry, before it (an approval's last vote). */
  alongside?: EntryContent[];
}

export interface Performed {
  response: UpstreamResponse;
  budget?: BudgetInfo;
}

/** What the web layer learns on the way (a direct request: for its metrics and its refusal recorder). */
export interface PerformHooks {
  /** The request entry is committed: from here the outcome entry records any failure. */
  intent?: (intent: Intent) => void;
  /** How the upstream call went: `2xx`…`5xx` (and the status), or `error` when no answer came. */
  upstream?: (statusClass: string, seconds: number, status?: number) => void;
}

/**
 * The one forward-and-audit path (issue 23): the shared upstream budget, then for a mutation the request entry
 * (committed before anything is sent: without it, nothing is), the call with the server-held DeveloperKey, and
 * the outcome entry. A direct request and an approved request's execution both come here.
 */
export async function perform(deps: PerformDeps, call: Call, hooks: PerformHooks = {}): Promise<Performed> {
  const { operation } = call;
  const budget = await deps.budget.take(operation.mutates);
  if (call.alongside?.length && !operation.mutates) throw new Error('entries go alongside a mutation only');
  // The owner the call was decided on is checked where its request entry is appended, in the same statement (issue 26):
  // ownership is held in memory, and a change another instance just made must not let a stale decision through. An
  // approval's execution was decided on the owner its approving call read; it is checked the same way, with the
  // entries that go with the last vote (none of them is written if it moved).
  const applicationId = call.params.application_id;
  const owner = applicationId !== undefined ? { applicationId, team: call.facts.team ?? null } : undefined;
  const intent = operation.mutates
    ? await withSpan('gateway.audit.append', () =>
        deps.recorder.recordIntent({ ...call.facts, body: call.body }, call.alongside, owner),
      )
    : undefined;
  if (intent) hooks.intent?.(intent);
  const started = performance.now();
  let response: UpstreamResponse;
  try {
    response = await deps.upstream.forward({
      method: operation.method,
      path: upstreamPath(operation, call.params),
      query: call.query,
      body: call.body,
      requestId: call.facts.requestId,
    });
  } catch (error) {
    hooks.upstream?.('error', (performance.now() - started) / 1000);
    if (intent)
      await deps.recorder.recordOutcome(intent, call.facts, {
        failure: error instanceof GatewayError ? error : undefined,
      });
    throw error;
  }
  hooks.upstream?.(`${Math.floor(response.status / 100)}xx`, (performance.now() - started) / 1000, response.status);
  if (operation.mutates && operation.id.startsWith('applications.')) deps.onApplicationsChanged?.();
  if (intent) await deps.recorder.recordOutcome(intent, call.facts, { response });
  return { response, budget };
}
