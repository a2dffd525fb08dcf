import type { RequestHandler } from 'express';

/** Runs `handler` except for requests under `prefix`, which go straight on (Express would walk its routes). */
export function unlessUnder(prefix: string, handler: RequestHandler): RequestHandler {
  return (req, res, next) => (req.path.startsWith(prefix) ? next() : handler(req, res, next));
}

/**
 * Runs `handler` (a router whose routes all sit under `path`) only for requests at or under `path`, matched
 * as Express matches mount paths (case-insensitively); the rest go straight on.
 */
export function onlyUnder(path: string, handler: RequestHandler): RequestHandler {
  const lower = path.toLowerCase();
  return (req, res, next) => {
    const requested = req.path.toLowerCase();
    return requested === lower || requested.startsWith(`${lower}/`) ? handler(req, res, next) : next();
  };
}
