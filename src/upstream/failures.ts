import { GatewayError } from '../errors/codes';
import type { ErrorReason } from '../errors/reasons';

/**
 * How a failure to talk to the Management API is answered. Decided per error code, on purpose:
 * nothing reached or answered → 502; no answer in time → 504.
 */
const NETWORK_FAILURES: Record<string, { code: 'upstream_unavailable' | 'upstream_timeout'; reason: ErrorReason }> = {
  ECONNREFUSED: { code: 'upstream_unavailable', reason: 'connection_refused' },
  ECONNRESET: { code: 'upstream_unavailable', reason: 'connection_reset' },
  EPIPE: { code: 'upstream_unavailable', reason: 'connection_reset' },
  UND_ERR_SOCKET: { code: 'upstream_unavailable', reason: 'connection_reset' },
  UND_ERR_CLOSED: { code: 'upstream_unavailable', reason: 'connection_reset' },
  ENOTFOUND: { code: 'upstream_unavailable', reason: 'dns_failure' },
  EAI_AGAIN: { code: 'upstream_unavailable', reason: 'dns_failure' },
  EHOSTUNREACH: { code: 'upstream_unavailable', reason: 'unreachable' },
  ENETUNREACH: { code: 'upstream_unavailable', reason: 'unreachable' },
  UND_ERR_CONNECT_TIMEOUT: { code: 'upstream_timeout', reason: 'connect_timeout' },
  UND_ERR_HEADERS_TIMEOUT: { code: 'upstream_timeout', reason: 'headers_timeout' },
  UND_ERR_BODY_TIMEOUT: { code: 'upstream_timeout', reason: 'body_timeout' },
};

/** Reasons an upstream answer is refused rather than passed on. */
export type BadResponseReason =
  'response_too_large' | 'not_json' | 'cross_origin_redirect' | 'redirected_mutation' | 'too_many_redirects';

export function badResponse(reason: BadResponseReason, message: string): GatewayError {
  return new GatewayError('upstream_bad_response', message, [{ reason }]);
}

export function isTimeout(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/**
 * `upstreamStatus`: the status line had arrived before the exchange failed (a reset mid-body, a body too large or
 * not JSON). It goes into the details, and so into the audit entry: after a 2xx, a mutation may well have been made.
 */
export function mapUpstreamFailure(err: unknown, timedOut: boolean, upstreamStatus?: number): GatewayError {
  const mapped = classify(err, timedOut);
  if (upstreamStatus === undefined) return mapped;
  const [first, ...rest] = mapped.details;
  return new GatewayError(
    mapped.code,
    mapped.message,
    [{ ...first, upstream_status: upstreamStatus }, ...rest],
    mapped.hints,
  );
}

/** OpenSSL's verification codes for a certificate no trusted CA vouches for (a private CA without UPSTREAM_CA_FILE). */
const UNTRUSTED_CHAIN = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

function classify(err: unknown, timedOut: boolean): GatewayError {
  if (err instanceof GatewayError) return err;
  if (timedOut || isTimeout(err))
    return new GatewayError('upstream_timeout', undefined, [{ reason: 'deadline_exceeded' }]);
  const code = errorCode(err);
  const mapped = code ? NETWORK_FAILURES[code] : undefined;
  if (mapped) return new GatewayError(mapped.code, undefined, [{ reason: mapped.reason }]);
  if (
    code?.startsWith('CERT_') ||
    code?.startsWith('ERR_TLS') ||
    code?.startsWith('ERR_SSL') ||
    UNTRUSTED_CHAIN.has(code ?? '')
  ) {
    return new GatewayError('upstream_unavailable', undefined, [{ reason: 'tls_failure' }]);
  }
  return new GatewayError('upstream_unavailable', undefined, [{ reason: 'network_error' }]);
}

/** undici wraps the socket error in `cause`; the code may sit on either. */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  return e?.cause?.code ?? e?.code;
}

/** Failures after which a GET may be sent again: the request cannot have been acted on. */
export function isRetryableForIdempotent(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}
