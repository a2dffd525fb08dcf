import cors from 'cors';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { authenticate } from './pipeline/authenticate';
import type { TokenVerifier } from './auth/verifier';
import type { Config } from './config/load';
import { errorHandler, notFound } from './http/error-handler';
import { jsonBody } from './http/json-body';
import { requestLogger } from './http/logger';
import { requestId } from './http/request-id';
import { warnOnUntrustedProxy } from './http/proxy-warning';
import { securityHeaders } from './http/security-headers';
import { chain } from './http/chain';
import { traced, traceRequests } from './http/trace-requests';
import { validate } from './pipeline/validate';
import { unlessUnder } from './http/mount-guards';
import { forwardToUpstream } from './pipeline/forward';
import { refuseUnmatched, resolveAction } from './pipeline/resolve-action';
import { decideAction, decideInput } from './pipeline/decide-action';
import { dispatch } from './pipeline/dispatch';
import { recordRefusal } from './pipeline/record-refusal';
import { policyHandlers } from './routes/policy-explain';
import { auditHandlers, type AuditDeps } from './routes/audit';
import { ownershipHandlers } from './routes/ownership';
import { approvalHandlers } from './routes/approvals';
import type { Policy } from './policy/policy';
import { healthRoutes, type Lifecycle, type ReadinessCheck } from './routes/health';
import { consoleRoutes } from './console/serve';
import { docsRoutes } from './openapi/routes';
import type { Upstream } from './upstream/client';
import type { Limiters } from './ratelimit/limiters';
import type { Metrics } from './metrics/metrics';
import { observeRequests } from './metrics/observe';
import type { OwnershipStore } from './ownership/store';
import type { ApplicationDirectory } from './ownership/directory';
import { serveTeamList } from './pipeline/team-list';
import { requireApproval } from './pipeline/require-approval';
import type { Approvals } from './approvals/service';
import type { ApprovalStore } from './approvals/store';
import type { Sessions } from './session/sessions';
import { sessionOrBearer } from './session/authenticate';
import { sessionRoutes } from './session/routes';
import { staffUiRoutes } from './app-ui/serve';

export interface AppDeps {
  config: Config;
  logger: Logger;
  verifier: TokenVerifier;
  /** A getter, so a reloaded policy applies to the next request. */
  policy: () => Policy;
  upstream: Upstream;
  audit: AuditDeps;
  limiters: Limiters;
  ownership: { store: OwnershipStore; directory: ApplicationDirectory };
  approvals: { service: Approvals; store: ApprovalStore };
  /** Browser sign-in (issue 17); absent when OIDC_ISSUER is unset. */
  sessions?: Sessions;
  metrics?: Metrics;
  readiness?: ReadinessCheck[];
  lifecycle?: Lifecycle;
  /** The clock approval expiry, executions and sessions read (composeGateway's seam). */
  clock?: () => Date;
}

/**
 * The whole gateway, not listening. Each request under /v1 goes, in this order:
 * request id → log → authenticate (a refused token counts against the address: the failed-auth limit) → resolve the
 * catalogue's action → per-person limit (the row's class) → decide (the row's permission; a Management operation's
 * application as owned now) → read body (the row's limit) → validate (the row's schemas) → then either the
 * gateway's own action's handler, or for a Management operation: decide its input → (two-person rule: a guarded
 * operation becomes an approval request, 202) → perform (upstream budget → audit intent → forward → audit outcome;
 * an approved request's execution takes this same path) → respond. Any refusal is recorded once on the way out.
 */
export function buildApp(deps: AppDeps): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);

  // Each app.use is a router layer that Express 5 re-matches and re-slices the URL for on every request, so the
  // steps every request takes run as one layer (src/http/chain.ts), and each group of routes as one more.
  const proxyWarning = warnOnUntrustedProxy(config, deps.logger);
  app.use(
    chain(
      requestId(),
      traceRequests(),
      requestLogger(deps.logger),
      ...(proxyWarning ? [proxyWarning] : []),
      ...(deps.metrics ? [observeRequests(deps.metrics)] : []),
      securityHeaders(),
      cors({
        origin: config.corsOrigins,
        allowedHeaders: [
          'Authorization',
          'Content-Type',
          'X-Request-Id',
          'X-Team',
          'X-Approval-Reason',
          'X-Approval-Bypass',
        ],
        exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Location'],
        maxAge: 600,
      }),
    ),
  );
  // The public routes (health, console, reference) are skipped without a look at their routes by API requests.
  app.use(
    unlessUnder(
      '/v1/',
      chain(
        healthRoutes(deps.readiness ?? [], deps.lifecycle ?? { draining: false }, deps.logger, (results, ready) => {
          for (const { name, ok } of results) deps.metrics?.readiness.set({ check: name }, ok ? 1 : 0);
          deps.metrics?.readiness.set({ check: 'ready' }, ready ? 1 : 0);
        }),
        consoleRoutes(),
        docsRoutes(),
        ...(deps.sessions ? [sessionRoutes(deps.sessions, deps.audit.recorder, deps.clock)] : []),
        staffUiRoutes(),
      ),
    ),
  );

  const { limiters } = deps;
  // A signed-in browser's session cookie (with the CSRF header) or a bearer token: the same Principal either way.
  const authenticated = deps.sessions
    ? sessionOrBearer(deps.sessions, authenticate(deps.verifier))
    : authenticate(deps.verifier);
  const ownership = deps.ownership.store;
  const perform = {
    recorder: deps.audit.recorder,
    upstream: deps.upstream,
    budget: limiters.upstream,
    onApplicationsChanged: () => deps.ownership.directory.invalidate(),
  };
  // Every action under /v1, the gateway's own and the 12 Management operations, takes the same steps: one catalogue
  // row (src/catalogue/actions.ts), one meter, one decision, one body reader, one input check, one refusal recorder.
  app.use(
    '/v1',
    chain(
      traced('gateway.authenticate', authenticated),
      resolveAction(),
      limiters.perPrincipal,
      refuseUnmatched(),
      traced('gateway.decision', decideAction(deps.policy, ownership)),
      jsonBody(config.bodyLimitBytes),
      validate(),
      dispatch(
        chain(
          decideInput(deps.policy, ownership),
          requireApproval(deps.policy, deps.approvals.service),
          serveTeamList(ownership, deps.ownership.directory, limiters.upstream),
          traced('gateway.forward', forwardToUpstream(perform, limiters, deps.policy, ownership)),
        ),
        {
          ...policyHandlers(deps.policy, ownership),
          ...approvalHandlers(
            {
              approvals: deps.approvals.service,
              store: deps.approvals.store,
              ownership,
              clock: deps.clock ?? (() => new Date()),
            },
            deps.policy,
          ),
          ...ownershipHandlers(
            { ...deps.ownership, recorder: deps.audit.recorder, upstream: deps.upstream },
            deps.policy,
          ),
          ...auditHandlers(deps.audit),
        },
      ),
    ),
    limiters.unauthenticated.countFailure,
  );

  app.use(notFound());
  app.use(recordRefusal(deps.audit.recorder, deps.ownership.store));
  app.use(errorHandler(deps.logger));
  return app;
}
