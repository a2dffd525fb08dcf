import { isUtf8 } from 'node:buffer';
import { MIMEType } from 'node:util';
import express, { type RequestHandler } from 'express';
import { GatewayError } from './errors';

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/**
 * Reads a JSON body only once the caller is known to be allowed, and only for operations that
 * take one. Anything but application/json is refused (415); invalid UTF-8 is refused rather than
 * silently replaced.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({
    limit: limitBytes,
    strict: true,
    type: () => true,
    verify: (_req, _res, buf) => {
      if (!isUtf8(buf)) throw Object.assign(new Error('invalid UTF-8'), { type: 'entity.verify.failed' });
    },
  });
  return (req, res, next) => {
    const operation = res.locals.operation;
    if (!hasBody(req.headers)) {
      req.body = undefined;
      return next();
    }
    if (!operation?.body) {
      throw new GatewayError('validation_failed', 'This operation takes no request body.', [{ location: 'body', code: 'unexpected_body', reason: 'unexpected_body' }]);
    }
    if (!req.is('application/json')) {
      throw new GatewayError('unsupported_media_type', undefined, [{ reason: 'content_type', received: req.headers['content-type'] ?? null }]);
    }
    // body-parser would decode any utf-* charset: a UTF-16 body passed the UTF-8 check below on its raw bytes.
    const charset = declaredCharset(req.headers['content-type']);
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
      throw new GatewayError('unsupported_media_type', undefined, [{ reason: 'charset_unsupported', received: charset }]);
    }
    parse(req, res, next);
  };
}

function declaredCharset(contentType: string | undefined): string | undefined {
  try {
    return new MIMEType(contentType ?? '').params.get('charset') ?? undefined;
  } catch {
    return undefined;
  }
}
