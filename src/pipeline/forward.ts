import type { RequestHandler } from 'express';
import { upstreamPath } from '../catalogue/match';
import type { Upstream } from '../upstream/client';

/** Sends the validated request upstream with the server-held key and relays the answer as it came. */
export function forwardToUpstream(upstream: Upstream): RequestHandler {
  return async (req, res) => {
    const { operation, params, input, requestId } = res.locals;
    if (!operation || !params || !input) throw new Error('forward runs after validate');
    const response = await upstream.forward({
      method: operation.method,
      path: upstreamPath(operation, params),
      query: input.query,
      body: input.body,
      requestId,
    });
    // Management data is private to the company and API keys are credentials: never cached on the way.
    res.status(response.status).set(response.headers).set('Cache-Control', 'no-store');
    if (response.status === 204 || response.status === 304) res.end();
    else res.send(response.body);
  };
}
