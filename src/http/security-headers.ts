import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/**
 * helmet's response headers, worked out by helmet once at start-up and set on every response. With no
 * per-request directives (no nonces) they are the same for every response; running helmet's thirteen
 * middlewares per request cost more than the headers themselves.
 */
export function securityHeaders(): RequestHandler {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => headers.push([name, String(value)]),
    removeHeader: () => undefined,
  } as unknown as Response;
  let completed = false;
  helmet()({ headers: {} } as Request, recorder, (err?: unknown) => {
    if (err) throw err;
    completed = true;
  });
  if (!completed) throw new Error('helmet did not complete synchronously: its headers cannot be precomputed');
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
