import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AuditUnavailable } from '../audit/trail/write-failures';
import { AuditReadUnavailable } from '../audit/review/reader';
import { OwnerMoved } from '../audit/trail/store';
import { GatewayError, toEnvelope, type ErrorCode } from '../errors/codes';
import type { ErrorReason } from '../errors/reasons';
import { ApprovalsUnavailable } from '../approvals/store';
import { refusalHeaders } from './refusal-headers';

/** body-parser's error types, answered in the gateway's envelope. */
const BODY_ERRORS: Record<string, { code: ErrorCode; reason: ErrorReason }> = {
  'entity.too.large': { code: 'payload_too_large', reason: 'body_too_large' },
  'entity.parse.failed': { code: 'invalid_json', reason: 'invalid_json' },
  'entity.verify.failed': { code: 'validation_failed', reason: 'invalid_utf8' },
  'encoding.unsupported': { code: 'unsupported_media_type', reason: 'content_encoding_unsupported' },
  'charset.unsupported': { code: 'unsupported_media_type', reason: 'charset_unsupported' },
  'request.aborted': { code: 'validation_failed', reason: 'request_aborted' },
  'request.size.invalid': { code: 'validation_failed', reason: 'content_length_mismatch' },
};

export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof ApprovalsUnavailable) {
    return new GatewayError(
      'approvals_unavailable',
      undefined,
      [{ reason: err.timedOut ? 'approvals_store_timeout' : 'approvals_store_failed' }],
      { retryAfterS: 5 },
    );
  }
  if (err instanceof AuditUnavailable)
    return new GatewayError('audit_unavailable', undefined, [{ reason: err.reason }], { retryAfterS: 5 });
  // Issue 26: decided on an owner that changed a moment before (another instance's transfer): nothing was sent.
  if (err instanceof OwnerMoved)
    return new GatewayError(
      'ownership_unavailable',
      'The application changed hands while this request was decided: nothing was sent. Send it again.',
      [{ reason: 'owner_changed' }],
      { retryAfterS: 1 },
    );
  if (err instanceof AuditReadUnavailable)
    return new GatewayError('audit_read_unavailable', undefined, [{ reason: err.reason }], { retryAfterS: 5 });
  const type = (err as { type?: string } | undefined)?.type;
  const mapped = type ? BODY_ERRORS[type] : undefined;
  if (mapped) return new GatewayError(mapped.code, undefined, [{ reason: mapped.reason }]);
  return new GatewayError('internal_error');
}

/** The one place a refusal becomes a response. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const gatewayError = toGatewayError(err);
    if (gatewayError.code === 'internal_error') {
      logger.error({ err, request_id: res.locals.requestId }, 'unhandled error');
    } else if (err instanceof AuditReadUnavailable) {
      // What the database said, for the operator: the answer itself names only the reason.
      const cause = (err.cause as Error | undefined)?.message;
      logger.warn({ request_id: res.locals.requestId, reason: err.reason, cause }, 'audit read failed');
    }
    res.locals.errorCode = gatewayError.code;
    const reason = gatewayError.details[0]?.reason;
    if (typeof reason === 'string') res.locals.errorReason = reason;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(gatewayError.status).set(refusalHeaders(gatewayError.hints)).set('Cache-Control', 'no-store');
    res.json(toEnvelope(gatewayError, res.locals.requestId ?? 'unknown'));
  };
}

export function notFound(): RequestHandler {
  return () => {
    throw new GatewayError('not_found');
  };
}
