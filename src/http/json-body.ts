import { isUtf8 } from 'node:buffer';
import { MIMEType } from 'node:util';
import express, { type NextFunction, type Request, type RequestHandler } from 'express';
import { GatewayError } from '../errors/codes';

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/**
 * Reads a JSON body only once the caller is known to be allowed, and only for actions that
 * take one, up to the action's limit: the one body reader of every action. Anything but application/json is refused (415); invalid UTF-8 is refused rather than
 * silently replaced.
 */
export function jsonBody(defaultLimitBytes: number): RequestHandler {
  // One parser per body limit a catalogue row sets (src/catalogue/actions.ts); the default is BODY_LIMIT.
  const parsers = new Map<number, RequestHandler>();
  const parserFor = (limit: number): RequestHandler => {
    let parse = parsers.get(limit);
    if (!parse) {
      parse = express.json({
        limit,
        strict: true,
        type: () => true,
        verify: (_req, _res, buf) => {
          if (!isUtf8(buf)) throw Object.assign(new Error('invalid UTF-8'), { type: 'entity.verify.failed' });
        },
      });
      parsers.set(limit, parse);
    }
    return parse;
  };
  return (req, res, next) => {
    const action = res.locals.action;
    if (!hasBody(req.headers)) {
      req.body = undefined;
      return next();
    }
    if (!action?.body) {
      throw new GatewayError('validation_failed', 'This operation takes no request body.', [
        { location: 'body', code: 'unexpected_body', reason: 'unexpected_body' },
      ]);
    }
    if (!req.is('application/json')) {
      throw new GatewayError('unsupported_media_type', undefined, [
        { reason: 'content_type', received: req.headers['content-type'] ?? null },
      ]);
    }
    // body-parser would decode any utf-* charset: a UTF-16 body passed the UTF-8 check below on its raw bytes.
    const charset = declaredCharset(req.headers['content-type']);
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
      throw new GatewayError('unsupported_media_type', undefined, [
        { reason: 'charset_unsupported', received: charset },
      ]);
    }
    void parserFor(action.bodyLimitBytes ?? defaultLimitBytes)(req, res, refuseUndecodable(req, next));
  };
}

/**
 * body-parser passes zlib's own error on when a gzip, deflate or br body does not decode (corrupt, truncated):
 * no `type`, so it was answered 500 and the refused mutation left no audit entry (issue 18, finding 4). Any
 * error without a body-parser type from a body with a Content-Encoding is the client's body.
 */
export function refuseUndecodable(req: Request, next: NextFunction): NextFunction {
  return (err?: unknown) => {
    const encoding = req.headers['content-encoding']?.toLowerCase();
    if (err && (err as { type?: unknown }).type === undefined && encoding && encoding !== 'identity') {
      return next(
        new GatewayError('invalid_content_encoding', undefined, [{ reason: 'body_not_decodable', encoding }]),
      );
    }
    next(err as Error | undefined);
  };
}

function declaredCharset(contentType: string | undefined): string | undefined {
  try {
    return new MIMEType(contentType ?? '').params.get('charset') ?? undefined;
  } catch {
    return undefined;
  }
}
