import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { redactPath } from './redact';

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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

const UNLOGGED_PATHS = new Set(['/healthz', '/readyz']);

/** One line per request: id, method, redacted path, caller, operation, status, latency; never headers or bodies. */
export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (_req: IncomingMessage, res: ServerResponse) => (res as unknown as { locals: Express.Locals }).locals.requestId,
    autoLogging: { ignore: (req) => UNLOGGED_PATHS.has((req.url ?? '').split('?')[0] ?? '') },
    quietReqLogger: true,
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    customProps: (_req, res) => {
      const locals = (res as unknown as { locals: Express.Locals }).locals;
      return {
        sub: locals.principal?.sub,
        operation: locals.operation?.id,
        decision: locals.decision?.reason,
        error_code: locals.errorCode,
        error_reason: locals.errorReason,
      };
    },
    serializers: {
      req: (req: { id: string; method: string; raw: IncomingMessage; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        path: redactPath(req.raw.url ?? ''),
        remote: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
    },
  });
}
