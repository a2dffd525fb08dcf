import type { RequestHandler } from 'express';

/**
 * Runs `handlers` in order as one Express middleware, each with the `next` that calls the one after it;
 * an error (passed to `next`, thrown, or a rejected promise, as Express 5 takes them) leaves the chain for
 * the app's error handlers. One router layer instead of one per handler: Express 5's router re-matches the
 * mount path and re-slices the URL at every layer, which was a tenth of a read's CPU and allocations. Kept because
 * it pays: CPU per read 0.445 → 0.422 ms, ~5% (bench/lab/hot.ts; bench/notes.md, issue 16 item 10), where writing the
 * answer by hand saved ~1% and went (issue 27).
 */
export function chain(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let index = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null) return next(err);
      const handler = handlers[index++];
      if (!handler) return next();
      try {
        const returned: unknown = handler(req, res, step);
        if (returned instanceof Promise)
          returned.then(undefined, (rejected: unknown) => step(rejected ?? new Error('Rejected promise')));
      } catch (thrown) {
        step(thrown);
      }
    };
    step();
  };
}
