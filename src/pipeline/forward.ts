import type { RequestHandler, Response } from 'express';
import { perform, type PerformDeps } from '../actions/perform';
import type { Principal } from '../auth/principal';
import { decide } from '../policy/decide';
import { roleDecision, type Policy } from '../policy/policy';
import type { OwnershipStore } from '../ownership/store';
import type { Limiters } from '../ratelimit/limiters';
import { maskApiKeys } from '../secrets/mask';
import { requestFacts } from './audit-facts';
import { failClosed } from './decide-action';

/**
 * Sends the decided request through the one forward-and-audit path (src/actions/perform.ts) and relays the answer
 * as it came, API key values masked unless the caller may reveal them on this application.
 */
export function forwardToUpstream(
  deps: PerformDeps,
  limiters: Limiters,
  policy: () => Policy,
  ownership: OwnershipStore,
): RequestHandler {
  return async (req, res) => {
    const { operation, params, input, principal } = res.locals;
    if (!operation || !params || !input || !principal) throw new Error('forward runs after validate');
    const { response, budget } = await perform(
      deps,
      { operation, params, query: input.query, body: input.body, facts: requestFacts(req, res) },
      {
        intent: (intent) => (res.locals.intent = intent),
        upstream: (statusClass, seconds, status) => (res.locals.upstream = { statusClass, seconds, status }),
      },
    );
    if (budget) limiters.upstreamHeaders(res, budget);
    const reveal = !operation.returnsSecrets || (await mayReveal(policy(), principal, res, ownership));
    const body = reveal || response.status >= 300 ? response.body : maskApiKeys(response.body);
    // Management data is private to the company and API keys are credentials: never cached on the way (no-store).
    // Express's own send: a HEAD, a conditional request (304 against the upstream's ETag) and the Content-Type's
    // charset as it writes them. Writing to Node's response directly saved ~1% of a read, within the noise
    // (bench/notes.md, issue 16 item 14), so it went (issue 27).
    res.status(response.status).set(response.headers).set('Cache-Control', 'no-store').send(body);
  };
}

/** `apikeys.reveal` is decided like any permission: its scope reaches only the holder's teams' applications. */
async function mayReveal(policy: Policy, principal: Principal, res: Response, ownership: OwnershipStore) {
  const role = roleDecision(policy, principal.roles, 'apikeys.reveal');
  if (!role.allowed || role.scope === 'any') return role.allowed;
  const applicationId = res.locals.params?.application_id;
  if (!applicationId) return false;
  const owner =
    res.locals.team !== undefined
      ? res.locals.team
      : ((await failClosed(() => ownership.ownerOf(applicationId)))?.team ?? null);
  return decide(policy, principal, 'apikeys.reveal', { kind: 'application', owner }).allowed;
}
