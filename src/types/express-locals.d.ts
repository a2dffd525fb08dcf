import type { Intent } from '../audit/recorder';
import type { Principal } from '../auth/principal';
import type { Operation } from '../catalogue/operations';
import type { Decision } from '../policy/policy';

declare global {
  namespace Express {
    /** What each pipeline step learns about a request, for the next steps and the request log. */
    interface Locals {
      /** The gateway's own id for this request, unique: what the trail's `request_id` holds. */
      requestId: string;
      /** The caller's X-Request-Id, when well-formed: recorded as `client_request_id`, never trusted as unique. */
      clientRequestId?: string;
      principal?: Principal;
      operation?: Operation;
      params?: Record<string, string>;
      input?: { query: Record<string, string>; body?: Record<string, unknown> };
      decision?: Decision;
      /** The team owning the application the request is about (or, for a create, the team that will own it). */
      team?: string | null;
      /** Set when the request was refused for its target (ownership): audited like a refused mutation. */
      targetRefused?: boolean;
      /** The approval request an execution or lifecycle step belongs to (two-person rule). */
      approvalId?: string;
      /** Set once the audit request entry of a mutation is committed. */
      intent?: Intent;
      /** How the upstream call went, for the metrics. */
      upstream?: { statusClass: string; seconds: number; status?: number };
      errorCode?: string;
      errorReason?: string;
      /** Set once a read of the audit trail has its `access` entry (a refusal is then not recorded again). */
      accessRecorded?: boolean;
    }
  }
}

export {};
