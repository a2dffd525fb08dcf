import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Every request gets the gateway's own id, unique, answered in X-Request-Id and recorded as `request_id`. A
 * caller's well-formed X-Request-Id is kept beside it as `client_request_id` (so traces join up), never in its
 * place: a client could otherwise reuse another change's id to stand beside it (issue 18, finding 6).
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const offered = req.headers['x-request-id'];
    const id = randomUUID();
    res.locals.requestId = id;
    if (typeof offered === 'string' && WELL_FORMED.test(offered)) res.locals.clientRequestId = offered;
    res.setHeader('X-Request-Id', id);
    next();
  };
}
