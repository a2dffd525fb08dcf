import type { RequestHandler } from 'express';
import type { AuditRecorder } from '../audit/recorder';
import { upstreamPath } from '../catalogue/match';
import { decide, type Policy } from '../policy/policy';
import type { Upstream, UpstreamResponse } from '../upstream/client';
import { GatewayError } from '../errors/codes';
import { sendKnown } from '../http/send';
import { maskApiKeys } from '../secrets/mask';
import { requestFacts } from './audit-facts';

/**
 * Sends the validated request upstream with the server-held key, appends the audit outcome of a
 * mutation, and relays the answer as it came (API key values masked for callers without `apikeys.reveal`).
 */
export function forwardToUpstream(
  upstream: Upstream,
  recorder: AuditRecorder,
  policy: () => Policy,
  onApplicationsChanged: () => void = () => undefined,
): RequestHandler {
  return async (req, res) => {
    const { operation, params, input, requestId, intent, principal } = res.locals;
    if (!operation || !params || !input || !principal) throw new Error('forward runs after validate');
    let response: UpstreamResponse;
    const started = performance.now();
    try {
      response = await upstream.forward({
        method: operation.method,
        path: upstreamPath(operation, params),
        query: input.query,
        body: input.body,
        requestId,
      });
    } catch (error) {
      res.locals.upstream = { statusClass: 'error', seconds: (performance.now() - started) / 1000 };
      if (intent)
        await recorder.recordOutcome(intent, requestFacts(req, res), {
          failure: error instanceof GatewayError ? error : undefined,
        });
      throw error;
    }
    res.locals.upstream = {
      statusClass: `${Math.floor(response.status / 100)}xx`,
      status: response.status,
      seconds: (performance.now() - started) / 1000,
    };
    if (operation.mutates && operation.id.startsWith('applications.')) onApplicationsChanged();
    if (intent) await recorder.recordOutcome(intent, requestFacts(req, res), { response });
    const reveal = !operation.returnsSecrets || decide(policy(), principal.roles, 'apikeys.reveal').allowed;
    const body = reveal || response.status >= 300 ? response.body : maskApiKeys(response.body);
    // Management data is private to the company and API keys are credentials: never cached on the way (no-store).
    sendKnown(req, res, response.status, response.headers, body);
  };
}
