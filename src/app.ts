import cors from 'cors';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { authenticate } from './auth/authenticate';
import type { TokenVerifier } from './auth/verifier';
import type { Config } from './config/load';
import { errorHandler, notFound } from './http/error-handler';
import { jsonBody } from './http/json-body';
import { requestLogger } from './http/logger';
import { requestId } from './http/request-id';
import { warnOnUntrustedProxy } from './http/proxy-warning';
import { securityHeaders } from './http/security-headers';
import { chain } from './http/chain';
import { onlyUnder, unlessUnder } from './http/mount-guards';
import { authorize, authorizeInput } from './pipeline/authorize';
import { forwardToUpstream } from './pipeline/forward';
import { resolveOperation } from './pipeline/resolve-operation';
import { validate } from './pipeline/validate';
import type { Policy } from './policy/policy';
import { healthRoutes, type Lifecycle, type ReadinessCheck } from './routes/health';
import { me } from './routes/me';
import { explainPolicy } from './routes/policy-explain';
import { consoleRoutes } from './console/serve';
import { docsRoutes } from './openapi/routes';
import type { Upstream } from './upstream/client';
import { recordMutationIntent, recordRefusedMutation } from './pipeline/audit';
import { auditRoutes, type AuditDeps } from './routes/audit';
import { ownershipRoutes } from './routes/ownership';
import type { Limiters } from './ratelimit/limiters';
import type { Metrics } from './metrics/metrics';
import { observeRequests } from './metrics/observe';
import type { OwnershipStore } from './ownership/store';
import type { ApplicationDirectory } from './ownership/directory';
import { authorizeSource, authorizeTarget } from './pipeline/authorize-target';
import { serveTeamList } from './pipeline/team-list';
import { requireApproval } from './pipeline/require-approval';
import { approvalRoutes } from './routes/approvals';
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
}

/**
 * The whole gateway, not listening. Each request goes, in this order:
 * request id → log → authenticate (a refused token counts against the address: the failed-auth limit) → resolve operation → per-person limit → authorize
 * → authorize target (team ownership) → read body → validate → (two-person rule: a guarded operation becomes an
 * approval request, 202) → upstream budget → audit (intent) → forward
 * (or, for a team's list, the team's applications) → audit (outcome) → respond; a refused mutation, and any
 * request refused for its target, is audited on the way out.
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
        ...(deps.sessions ? [sessionRoutes(deps.sessions, deps.audit.recorder)] : []),
        staffUiRoutes(),
      ),
    ),
  );

  const { limiters } = deps;
  // A signed-in browser's session cookie (with the CSRF header) or a bearer token: the same Principal either way.
  const authenticated = deps.sessions
    ? sessionOrBearer(deps.sessions, authenticate(deps.verifier), deps.audit.recorder)
    : authenticate(deps.verifier);
  app.use('/v1', authenticated, limiters.unauthenticated.countFailure);
  app.get('/v1/me', limiters.perPrincipal, me(deps.policy));
  app.get('/v1/policy/explain', limiters.perPrincipal, explainPolicy(deps.policy, deps.ownership.store));
  app.use(
    onlyUnder('/v1/audit', chain(limiters.perPrincipal, auditRoutes(deps.audit, deps.policy, config.bodyLimitBytes))),
  );
  app.use(
    onlyUnder(
      '/v1/approvals',
      chain(
        limiters.perPrincipal,
        approvalRoutes(
          {
            approvals: deps.approvals.service,
            store: deps.approvals.store,
            ownership: deps.ownership.store,
            recorder: deps.audit.recorder,
          },
          deps.policy,
        ),
      ),
    ),
  );
  app.use(
    onlyUnder(
      '/v1/ownership',
      chain(
        limiters.perPrincipal,
        ownershipRoutes({ ...deps.ownership, recorder: deps.audit.recorder, upstream: deps.upstream }, deps.policy),
      ),
    ),
  );
  app.use(
    '/v1',
    chain(
      resolveOperation(),
      limiters.perPrincipal,
      authorize(deps.policy),
      authorizeTarget(deps.ownership.store),
      jsonBody(config.bodyLimitBytes),
      validate(),
      authorizeInput(deps.policy),
      authorizeSource(deps.ownership.store),
      requireApproval(deps.policy, deps.approvals.service),
      limiters.upstream,
      recordMutationIntent(deps.audit.recorder),
      serveTeamList(deps.ownership.store, deps.ownership.directory),
      forwardToUpstream(deps.upstream, deps.audit.recorder, deps.policy, () => deps.ownership.directory.invalidate()),
    ),
  );

  app.use(notFound());
  app.use(recordRefusedMutation(deps.audit.recorder, deps.ownership.store));
  app.use(errorHandler(deps.logger));
  return app;
}
