import type { RequestHandler } from 'express';
import pino, { type DestinationStream, type Logger } from 'pino';
import { redactPath } from '../secrets/mask';

/** Header and body fields that never reach a log line, whatever logs them. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'developerKey',
  '*.developerKey',
  'token',
  '*.token',
  'key',
  '*.key',
];

/**
 * Lines go to stdout asynchronously: under load, lines logged while a write is in progress go out together in the
 * next one (one write per request was a twentieth of the gateway's CPU per read). pino writes what is buffered
 * when the process exits, whatever the reason; only SIGKILL can lose the lines of the last write in progress.
 */
export function createLogger(
  level: string,
  destination: DestinationStream = pino.destination({ dest: 1, sync: false }),
): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

const UNLOGGED_PATHS = new Set(['/healthz', '/readyz']);

/**
 * One line per request: id, method, redacted path, caller, operation, status, latency; never headers or bodies.
 * Written here rather than with pino-http, which builds three child loggers per request and serializes their
 * bindings: that was a fifth of the gateway's CPU per read (docs/benchmarks.md). The line is the one pino-http
 * wrote: the same fields, `status: null` when no response was sent, `err` and level error from status 500.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (UNLOGGED_PATHS.has((req.url ?? '').split('?')[0] ?? '')) return next();
    const started = Date.now();
    // As the request arrived: once it is answered, a mounted router may have cut the path and the socket may be gone.
    const request = {
      id: res.locals.requestId,
      client_request_id: res.locals.clientRequestId,
      method: req.method,
      path: redactPath(req.url ?? ''),
      remote: req.socket.remoteAddress,
    };
    const done = (err?: Error) => {
      res.off('close', done);
      res.off('finish', done);
      res.off('error', done);
      const locals = res.locals;
      const failed = err !== undefined || res.statusCode >= 500;
      const line = {
        reqId: request.id,
        trace_id: locals.traceId,
        req: request,
        sub: locals.principal?.sub,
        operation: locals.operation?.id,
        decision: locals.decision?.reason,
        error_code: locals.errorCode,
        error_reason: locals.errorReason,
        res: { status: res.headersSent ? res.statusCode : null },
        responseTime: Date.now() - started,
      };
      if (failed)
        logger.error({ ...line, err: err ?? new Error(`failed with status code ${res.statusCode}`) }, 'request failed');
      else logger.info(line, 'request completed');
    };
    res.on('close', done);
    res.on('finish', done);
    res.on('error', done);
    next();
  };
}
