import type { RequestHandler } from 'express';

/** Runs `handler` except for requests under `prefix`, which go straight on (Express would walk its routes). */
export function unlessUnder(prefix: string, handler: RequestHandler): RequestHandler {
  return (req, res, next) => (req.path.startsWith(prefix) ? next() : handler(req, res, next));
}
