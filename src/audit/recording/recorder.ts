import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { UpstreamResponse } from '../../upstream/client';
import { nowMicros, type EntryContent, type Outcome, type StoredEntry } from '../trail/entry';
import { emptyContent } from '../trail/columns';
import { entryFromFacts, type EntryFacts } from './facts';
import type { AuditKeys } from '../trail/keys';
import { AuditUnavailable, describe, withTimeout } from '../trail/write-failures';
import { OwnerMoved, type AuditStore, type OwnerExpectation } from '../trail/store';
import { withSessionMark } from './session-mark';
import { withTraceMark } from './trace-mark';

/** Who asked what, as plain facts: the web layer builds them from a request (src/pipeline/audit-facts.ts). */
export type RequestFacts = Omit<EntryFacts, 'kind' | 'eventId'>;

/** Why a request was refused: a code of the error table and its details (a GatewayError is one). */
export interface Refusal {
  readonly code: string;
  readonly details: readonly Record<string, unknown>[];
}

export interface OwnershipChange {
  applicationId: string;
  from: string | null;
  to: string;
  via: 'assign' | 'import' | 'local_default';
}

export interface Intent {
  eventId: string;
  entry: StoredEntry;
  startedAt: number;
}

export interface AuditRecorder {
  /**
   * Commits the request entry of a mutation (its body from `facts.body`), or throws AuditUnavailable: then it must
   * not be forwarded. `alongside` entries (an approval's vote) are committed with it, in one group, before it.
   * With `owner`, it commits only if that is still the application's owner (else OwnerMoved: nothing was written).
   */
  recordIntent(facts: RequestFacts, alongside?: EntryContent[], owner?: OwnerExpectation): Promise<Intent>;
  /** Appends the response entry; a failure is logged (the request entry still proves the attempt). */
  recordOutcome(
    intent: Intent,
    facts: RequestFacts,
    result: { response?: UpstreamResponse; failure?: Refusal },
  ): Promise<void>;
  /** One `decision` entry for a mutation refused before forwarding (denied, invalid, rate limited). */
  recordRefusal(facts: RequestFacts, refusal: Refusal, operation?: string): Promise<void>;
  /** Reading the trail is itself recorded: who, what, with which filters; refused attempts too. */
  recordAccess(facts: RequestFacts, action: string, details: Record<string, unknown>, refused?: Refusal): Promise<void>;
  /**
   * An ownership change: a request entry (the owner before), then a response entry whose commit applies the change
   * (migration *_application_owner_projection). Throws AuditUnavailable if either is not committed: then the
   * change was not made, unless its response entry commits after the caller stopped waiting (the trail says so).
   * OwnerMoved when `from` is no longer the owner (nothing written).
   * Without a request (the local default's seeding), the system is the actor.
   */
  recordOwnershipChange(facts: RequestFacts | undefined, change: OwnershipChange): Promise<void>;
  /**
   * Commits an entry built from plain facts (src/audit/recording/facts.ts): approvals' lifecycle and executions. Throws
   * AuditUnavailable if it is not committed in time (then whatever it records must not happen).
   */
  commit(content: EntryContent): Promise<StoredEntry>;
  /** The same, for an entry whose failure is only logged (an outcome: the opening entry proves the attempt). */
  commitQuietly(content: EntryContent): Promise<void>;
  /** Events of the gateway itself (recovery, rotation). */
  recordSystem(action: string, details: Record<string, unknown>): Promise<StoredEntry>;
}

const REFUSAL_OUTCOMES: Partial<Record<string, Outcome>> = {
  forbidden: 'denied',
  rate_limited: 'rate_limited',
  rate_limit_unavailable: 'not_forwarded',
  audit_unavailable: 'not_forwarded',
  ownership_unavailable: 'not_forwarded',
  approvals_unavailable: 'not_forwarded',
};

/** Where the recorder reports how long commits take and which fail (the metrics, in the gateway). */
export interface AuditObserver {
  committed(kind: string, seconds: number): void;
  failed(kind: string): void;
}

export function createAuditRecorder(
  store: AuditStore,
  keys: AuditKeys,
  logger: Logger,
  writeTimeoutMs: number,
  observer?: AuditObserver,
): AuditRecorder {
  /**
   * Every write goes through here: bounded in time, and measured. When the wait ends without a commit the store is
   * told, and drops the entry unless its group commit has already sent it (`pending` then says what became of it).
   */
  function append(
    content: EntryContent,
    owner?: OwnerExpectation,
  ): { pending: Promise<StoredEntry>; bounded: Promise<StoredEntry> } {
    const started = performance.now();
    const caller = new AbortController();
    const pending = store.append(content, { signal: caller.signal, owner });
    pending.then(
      () => observer?.committed(content.kind, (performance.now() - started) / 1000),
      () => undefined,
    );
    const bounded = withTimeout(pending, writeTimeoutMs);
    bounded.catch(() => (caller.abort(), observer?.failed(content.kind)));
    return { pending, bounded };
  }

  /** Several entries in one group commit; `pending` and `bounded` follow the last (the ones before it go with it). */
  function appendTogether(
    contents: EntryContent[],
    owner?: OwnerExpectation,
  ): { pending: Promise<StoredEntry>; bounded: Promise<StoredEntry> } {
    const started = performance.now();
    const caller = new AbortController();
    const all = store.appendAll(contents, { signal: caller.signal, owner });
    const pending = Promise.all(all).then((stored) => stored.at(-1) as StoredEntry);
    pending.then(
      () => contents.forEach((c) => observer?.committed(c.kind, (performance.now() - started) / 1000)),
      () => undefined,
    );
    const bounded = withTimeout(pending, writeTimeoutMs);
    bounded.catch(() => (caller.abort(), contents.forEach((c) => observer?.failed(c.kind))));
    return { pending, bounded };
  }

  /**
   * A request entry whose caller gave up may still commit (its group commit was sent first): once it does, the trail
   * says the attempt was never forwarded. An entry dropped before it was sent never appears.
   */
  function notForwardedIfCommitted(pending: Promise<unknown>, request: EntryContent): void {
    pending.then(
      () =>
        completeLateCommit({
          ...request,
          kind: 'response',
          at: nowMicros(),
          outcome: 'not_forwarded',
          errorCode: 'audit_unavailable',
          requestBody: null,
        }),
      () => undefined,
    );
  }

  /**
   * The `response` entry of a request entry that committed after its caller was refused. Never dropped nor refused
   * for a full queue (there is one per late commit at most), so the trail never claims an attempt that did not happen.
   */
  function completeLateCommit(content: EntryContent): void {
    store.append(content, { beyondLimit: true }).then(
      () => undefined,
      (err: unknown) =>
        logger.error(
          { err: describe(err), event_id: content.eventId, request_id: content.requestId },
          'audit late response entry could not be written',
        ),
    );
  }

  function base(facts: RequestFacts, kind: EntryContent['kind'], eventId: string): EntryContent {
    return entryFromFacts(keys, { ...facts, kind, eventId });
  }

  async function appendQuietly(content: EntryContent, what: string): Promise<void> {
    try {
      await append(content).bounded;
    } catch (err) {
      logger.error(
        { err: describe(err), event_id: content.eventId, request_id: content.requestId, kind: content.kind },
        `audit ${what} entry could not be written`,
      );
    }
  }

  return {
    async recordIntent(facts, alongside = [], owner) {
      const eventId = randomUUID();
      const content = base(facts, 'request', eventId);
      // With entries alongside (an approval's last vote and its execution), each carries the owner expectation: if
      // the owner moved, none of them is written.
      const { pending, bounded } =
        alongside.length > 0 ? appendTogether([...alongside, content], owner) : append(content, owner);
      try {
        const entry = await bounded;
        return { eventId, entry, startedAt: performance.now() };
      } catch (err) {
        // Not written, and never will be: the caller decides again (or refuses) on the owner now.
        if (err instanceof OwnerMoved) throw err;
        logger.error(
          { err: describe(err), request_id: facts.requestId },
          'audit request entry not committed: mutation refused',
        );
        notForwardedIfCommitted(pending, content);
        throw AuditUnavailable.from(err);
      }
    },

    async recordOutcome(intent, facts, { response, failure }) {
      const content = base({ ...facts, body: undefined }, 'response', intent.eventId);
      const created = createdTarget(facts.operation ?? undefined, response, keys);
      const outcome: Outcome = response
        ? response.status < 400
          ? 'success'
          : 'upstream_error'
        : ((failure?.code as Outcome | undefined) ?? 'outcome_unknown');
      await appendQuietly(
        {
          ...content,
          ...created,
          fingerprints: created.apikeyFingerprint
            ? [...content.fingerprints, created.apikeyFingerprint]
            : content.fingerprints,
          outcome: outcome in OUTCOME_SET ? outcome : 'outcome_unknown',
          upstreamStatus: response?.status ?? upstreamStatusOf(failure),
          errorCode: failure?.code ?? null,
          latencyMs: Math.round((performance.now() - intent.startedAt) * 1000) / 1000,
          details: withTraceMark(
            facts.traceId,
            withSessionMark(facts.actor, failure ? { reason: failure.details[0]?.reason ?? null } : null),
          ),
        },
        'response',
      );
    },

    async recordRefusal(facts, error, operation) {
      const content = base(facts, 'decision', randomUUID());
      await appendQuietly(
        {
          ...content,
          ...(operation ? { operation } : {}),
          decision: error.code === 'forbidden' ? 'denied' : content.decision,
          outcome: REFUSAL_OUTCOMES[error.code] ?? (content.decision === 'denied' ? 'denied' : 'invalid'),
          errorCode: error.code,
          details: withSessionMark(
            facts.actor,
            error.details.length > 0
              ? { ...(content.details as object | null), errors: error.details.slice(0, 20) }
              : content.details,
          ),
        },
        'refusal',
      );
    },

    async recordAccess(facts, action, details, refused) {
      const content = base({ ...facts, body: undefined }, 'access', randomUUID());
      const outcome = refused
        ? { decision: 'denied' as const, outcome: REFUSAL_OUTCOMES[refused.code] ?? 'invalid', errorCode: refused.code }
        : { decision: 'allowed' as const, outcome: 'success' as const };
      await appendQuietly(
        {
          ...content,
          operation: action,
          details: withTraceMark(facts.traceId, withSessionMark(facts.actor, details)),
          ...outcome,
        },
        'access',
      );
    },

    async recordOwnershipChange(facts, change) {
      const eventId = randomUUID();
      const opening = facts
        ? base({ ...facts, body: undefined }, 'request', eventId)
        : { ...systemEntry('ownership.assign'), kind: 'request' as const, eventId };
      const request: EntryContent = {
        ...opening,
        operation: 'ownership.assign',
        applicationId: change.applicationId,
        team: change.from,
        details: withSessionMark(facts?.actor, { from: change.from, to: change.to, via: change.via }),
      };
      const refused = (stage: string) => (err: unknown) => {
        logger.error(
          { err: describe(err), event_id: eventId, application_id: change.applicationId },
          `audit ${stage} entry of an ownership change not committed: change refused`,
        );
        return AuditUnavailable.from(err);
      };
      const started = performance.now();
      // Decided on `from` as the owner (held in memory, issue 26): checked under the chain lock where the request entry
      // is appended; a change made meanwhile refuses this one (OwnerMoved), written nowhere.
      await append(request, { applicationId: change.applicationId, team: change.from }).bounded.catch((err: unknown) =>
        Promise.reject(err instanceof OwnerMoved ? err : refused('request')(err)),
      );
      const response: EntryContent = {
        ...request,
        kind: 'response',
        at: nowMicros(),
        team: change.to,
        outcome: 'success',
        latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      };
      // The entry that moves the owner is checked too: two changes decided on the same owner may both have had their
      // request entries committed; only the first to commit its response moves it (the store checks an entry after a
      // move in the next statement). The other is answered in the trail, and changes nothing.
      const expected = { applicationId: change.applicationId, team: change.from };
      await append(response, expected).bounded.catch(async (err: unknown) => {
        if (!(err instanceof OwnerMoved)) return Promise.reject(refused('response')(err));
        await append({
          ...response,
          team: change.from,
          outcome: 'not_forwarded',
          errorCode: 'ownership_unavailable',
        }).bounded.catch(() => undefined); // the request entry without an outcome is completed by recovery
        return Promise.reject(err);
      });
    },

    async commit(content) {
      const { pending, bounded } = append(content);
      try {
        return await bounded;
      } catch (err) {
        logger.error(
          { err: describe(err), event_id: content.eventId, operation: content.operation },
          'audit entry not committed: refused',
        );
        // A request entry (an approved execution's) that commits after all: never forwarded, as for mutations.
        if (content.kind === 'request') notForwardedIfCommitted(pending, content);
        throw AuditUnavailable.from(err);
      }
    },

    commitQuietly: (content) => appendQuietly(content, content.kind),

    recordSystem(action, details) {
      return append({ ...systemEntry(action), details }).bounded;
    },
  };
}

const OUTCOME_SET: Record<string, true> = {
  success: true,
  upstream_error: true,
  upstream_unavailable: true,
  upstream_timeout: true,
  upstream_bad_response: true,
  outcome_unknown: true,
};

/** For creates, the id the upstream returned is the target; an API key only as its fingerprint. */
export function createdTarget(
  id: string | undefined,
  response: UpstreamResponse | undefined,
  keys: AuditKeys,
): Partial<EntryContent> {
  if (id !== 'applications.create' && id !== 'webhooks.create' && id !== 'apikeys.create') return {};
  const body = response && response.status < 300 && response.body.length > 0 ? parseJson(response.body) : undefined;
  if (!body) return {};
  if (id === 'applications.create' && typeof body.id === 'string') return { applicationId: body.id };
  if (id === 'webhooks.create' && typeof body.id === 'string') return { webhookId: body.id };
  if (id === 'apikeys.create' && typeof body.key === 'string') return { apikeyFingerprint: keys.fingerprint(body.key) };
  return {};
}

export function systemEntry(action: string): EntryContent {
  return {
    ...emptyContent(),
    at: nowMicros(),
    kind: 'system',
    eventId: randomUUID(),
    requestId: 'system',
    operation: action,
  } as EntryContent;
}

/** The status the upstream did send when its answer was then refused (e.g. a 201 whose body is not JSON). */
function upstreamStatusOf(error: Refusal | undefined): number | null {
  const status = error?.details[0]?.upstream_status;
  return typeof status === 'number' ? status : null;
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
