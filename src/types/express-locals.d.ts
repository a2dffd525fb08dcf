import type { Span } from '@opentelemetry/api';
import type { Intent } from '../audit/recording/recorder';
import type { Principal } from '../auth/principal';
import type { Action } from '../catalogue/actions';
import type { ActionInput } from '../catalogue/validate';
import type { ActionMatch } from '../catalogue/resolve';
import type { Operation } from '../catalogue/operations';
import type { Decision } from '../policy/policy';

declare global {
  namespace Express {
    /** What each pipeline step learns about a request, for the next steps and the request log. */
    interface Locals {
      /** The gateway's own id for this request, unique: what the trail's `request_id` holds. */
      requestId: string;
      /** With tracing on (src/tracing/): the request's server span and its trace id, for the log line. */
      span?: Span;
      traceId?: string;
      /** The caller's X-Request-Id, when well-formed: recorded as `client_request_id`, never trusted as unique. */
      clientRequestId?: string;
      principal?: Principal;
      /** The catalogue row of what the request asks (src/catalogue/actions.ts). */
      action?: Action;
      /** Set instead of `action` for a path that names none: refused (404, or 405 for another method). */
      unmatched?: Exclude<ActionMatch, { kind: 'action' }>;
      /** For an unmatched path: metered as a mutation unless its method is a read's. */
      mutatesByMethod?: boolean;
      /** A Management operation's catalogue entry (the action's `operation`). */
      operation?: Operation;
      params?: Record<string, string>;
      input?: { query: Record<string, string>; body?: Record<string, unknown> };
      /** The validated input of one of the gateway's own actions. */
      actionInput?: ActionInput;
      decision?: Decision;
      /** The team owning the application the request is about (or, for a create, the team that will own it). */
      team?: string | null;
      /** The approval request an execution or lifecycle step belongs to (two-person rule). */
      approvalId?: string;
      /** Set once the audit request entry of a mutation is committed. */
      intent?: Intent;
      /** How the upstream call went, for the metrics. */
      upstream?: { statusClass: string; seconds: number; status?: number };
      /** A failed sign-in the per-address limit counted (and did not refuse): the one refusal recorder files it. */
      signInFailureCounted?: boolean;
      errorCode?: string;
      errorReason?: string;
    }
  }
}

export {};
