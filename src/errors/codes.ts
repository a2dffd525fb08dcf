import type { Reason } from './reasons';

/**
 * Every refusal the gateway itself can answer with. The codes are a public contract:
 * the README's error table is checked against this one by test/http/docs-in-step.test.ts.
 */
export const ERROR_CODES = {
  unauthenticated: { status: 401, message: 'A bearer token is required.' },
  invalid_token: { status: 401, message: 'The bearer token is not valid.' },
  csrf_header_missing: {
    status: 403,
    message: 'A request signed in with the session cookie must carry X-Requested-With: kloudless-gateway.',
  },
  forbidden: { status: 403, message: 'Your roles do not allow this operation.' },
  not_found: { status: 404, message: 'No such operation.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed on this path.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  approval_expired: { status: 410, message: 'This approval request has expired; ask again.' },
  validation_failed: { status: 400, message: 'The request is not valid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_content_encoding: { status: 400, message: 'The request body is not valid for its Content-Encoding.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Request bodies must be application/json.' },
  rate_limited: { status: 429, message: 'Too many requests; retry later.' },
  rate_limit_unavailable: {
    status: 503,
    message: 'Rate limits cannot be checked right now, so this mutation was not made.',
  },
  upstream_unavailable: { status: 502, message: 'The Management API could not be reached.' },
  upstream_bad_response: { status: 502, message: 'The Management API sent a response the gateway will not pass on.' },
  upstream_timeout: { status: 504, message: 'The Management API did not answer in time.' },
  audit_unavailable: {
    status: 503,
    message: 'The audit trail cannot record this change right now, so it was not made.',
  },
  approvals_unavailable: {
    status: 503,
    message: 'Approval requests cannot be read or changed right now; nothing was executed.',
  },
  audit_read_unavailable: {
    status: 503,
    message:
      'The audit trail cannot be read right now (the read took too long, or the database is unavailable); narrow the filter or retry.',
  },
  ownership_unavailable: {
    status: 503,
    message: 'Application ownership cannot be checked right now, so the request was not forwarded.',
  },
  sign_in_failed: { status: 400, message: 'Sign-in could not be completed; start again from /auth/login.' },
  sign_in_unavailable: { status: 503, message: 'The identity provider cannot be reached; try again shortly.' },
  internal_error: { status: 500, message: 'The gateway failed to handle the request.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One detail of a refusal: `reason` is always an id of src/errors/reasons.ts; other members say more. */
export interface ErrorDetail {
  reason?: Reason;
  [key: string]: unknown;
}

/**
 * What a refusal tells the client beyond its code, as data: the web layer (src/http/refusal-headers.ts) turns it into
 * headers. Domain code never writes an HTTP header.
 */
export interface RefusalHints {
  /** Seconds before a retry can succeed (Retry-After). */
  retryAfterS?: number;
  /** The methods the path does take (Allow). */
  allow?: readonly string[];
  /** Where the resource the refusal names is (Location). */
  location?: string;
  /** The authentication challenge (WWW-Authenticate): a bearer token, or why the one sent was refused. */
  challenge?: { scheme: 'Bearer'; error?: string; description?: string };
}

/** A refusal answered with the gateway's envelope. Thrown anywhere in the pipeline; one handler renders it. */
export class GatewayError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details: ErrorDetail[] = [],
    readonly hints: RefusalHints = {},
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'GatewayError';
    this.status = ERROR_CODES[code].status;
  }
}

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; request_id: string; details: ErrorDetail[] };
}

export function toEnvelope(err: GatewayError, requestId: string): ErrorEnvelope {
  return { error: { code: err.code, message: err.message, request_id: requestId, details: err.details } };
}
