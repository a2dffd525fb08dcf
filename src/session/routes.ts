import { Router, type Request } from 'express';
import type { AuditRecorder } from '../audit/recording/recorder';
import type { FailedAuthLimiter } from '../ratelimit/failed-auth';
import type { TokenEndpointBudget } from '../ratelimit/token-endpoint';
import { signInFailed, type SignInTransaction } from '../auth/oidc/client';
import { IDENTITY_CLAIMS, principalFromClaims, type Principal } from '../auth/principal';
import { uncleanClaim } from '../auth/claim-text';
import { teamsFromClaims } from '../ownership/teams';
import { requireCsrfHeader, sessionEnded } from './authenticate';
import { clearCookie, cookieValues, setCookie } from './cookies';
import type { Sessions } from './sessions';
import { requestFacts } from '../pipeline/audit-facts';

/** A sign-in left half-way (the IdP's page open too long) is abandoned after this. */
const SIGN_IN_WINDOW_S = 600;
/** Where to go after sign-in: a path on this origin only (never `//host`), so /auth/login is no open redirect. */
const RETURN_TO = /^\/(?!\/)[A-Za-z0-9/_.~-]{0,200}$/;
const DEFAULT_RETURN_TO = '/app/';

interface SealedTransaction extends SignInTransaction {
  returnTo: string;
  expiresAt: number;
}

/**
 * `/auth/*`: the Backend-for-Frontend's sign-in. The gateway is the OIDC client (code flow, PKCE S256, state,
 * nonce); every token stays here; the browser gets an HttpOnly cookie naming a server-side session.
 */
export function sessionRoutes(
  sessions: Sessions,
  recorder: AuditRecorder,
  limits: { failedAuth: FailedAuthLimiter; tokenEndpoint: TokenEndpointBudget },
  clock: () => Date = () => new Date(),
): Router {
  const router = Router();
  const { names } = sessions;

  router.get('/auth/login', async (req, res) => {
    // An address that has spent its failed-authentication budget starts no sign-in (issue 24).
    await limits.failedAuth.refuseWhenSpent(req);
    const requested = typeof req.query.return_to === 'string' ? req.query.return_to : DEFAULT_RETURN_TO;
    const returnTo = RETURN_TO.test(requested) ? requested : DEFAULT_RETURN_TO;
    const { url, transaction } = await sessions.oidc.start();
    const sealed: SealedTransaction = {
      ...transaction,
      returnTo,
      expiresAt: clock().getTime() + SIGN_IN_WINDOW_S * 1000,
    };
    setCookie(res, names, 'login', sessions.sealer.seal(sealed), SIGN_IN_WINDOW_S);
    res.set('Cache-Control', 'no-store').redirect(302, url);
  });

  router.get('/auth/callback', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    // One use only, whatever happens next.
    clearCookie(res, names, 'login');
    // Before anything costs the identity provider a call: the address's failures, the transaction used once (on the
    // server: a copied cookie completes no second sign-in), then the token endpoint's global budget (issue 24).
    await limits.failedAuth.refuseWhenSpent(req);
    const transaction = openTransaction(req, sessions, clock());
    if (!(await sessions.store.useSignIn(transaction.state, new Date(transaction.expiresAt))))
      throw signInFailed('sign_in_replayed', 'This sign-in was completed or tried already; start again.');
    await limits.tokenEndpoint.take();
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const { claims } = await sessions.oidc.complete(query, transaction);
    const unclean = uncleanClaim(claims, IDENTITY_CLAIMS);
    if (unclean)
      throw signInFailed('invalid_claim_text', `Your ${unclean} holds a control character or invalid Unicode.`);
    const teams = teamsFromClaims(claims, sessions.claims.teamsClaim);
    if (!teams.ok) throw signInFailed('invalid_teams_claim', `Your teams cannot be read: ${teams.problem}.`);
    const { sub, name, email, roles, issuer } = principalFromClaims(claims, sessions.claims.rolesClaim, teams.teams);
    // Whatever session this browser had ends here: the new one gets an id it has never seen (no fixation).
    for (const old of cookieValues(req, names.session)) await sessions.store.delete(old);
    const token = await sessions.store.create({ sub, name, email, roles, teams: teams.teams, issuer });
    const principal: Principal = {
      sub,
      name,
      email,
      roles,
      teams: teams.teams,
      issuer,
      session: sessions.keys.fingerprint(token),
    };
    res.locals.principal = principal;
    await recorder.recordAccess(requestFacts(req, res), 'session.sign_in', { issuer: issuer ?? null });
    setCookie(res, names, 'session', token, sessions.ttlS);
    res.redirect(303, transaction.returnTo);
  });

  router.post('/auth/logout', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const lookup = await sessions.resolve(req);
    if (lookup.kind === 'none') throw sessionEnded();
    if (lookup.kind === 'live') {
      res.locals.principal = lookup.principal;
      requireCsrfHeader(req);
      await sessions.store.delete(lookup.token);
      await recorder.recordAccess(requestFacts(req, res), 'session.sign_out', {});
    }
    clearCookie(res, names, 'session');
    const endSessionUrl = await sessions.oidc.endSessionUrl(sessions.postLogoutRedirectUri).catch(() => undefined);
    res.json({ signed_out: true, end_session_url: endSessionUrl ?? null });
  });

  router.get('/auth/session', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const lookup = await sessions.resolve(req);
    if (lookup.kind !== 'live') {
      if (lookup.kind === 'ended') clearCookie(res, names, 'session');
      return void res.json({ authenticated: false, login_url: '/auth/login' });
    }
    res.locals.principal = lookup.principal;
    requireCsrfHeader(req);
    const { principal, session } = lookup;
    res.json({
      authenticated: true,
      sub: principal.sub,
      name: principal.name ?? null,
      email: principal.email ?? null,
      roles: principal.roles,
      teams: principal.teams,
      expires_at: session.expiresAt.toISOString(),
      idle_expires_at: session.idleExpiresAt.toISOString(),
    });
  });
  // A failed sign-in counts against the address (a refusal past its budget becomes 429); the one refusal recorder
  // (src/pipeline/record-refusal.ts) files each counted failure as one decision entry.
  router.use(['/auth/login', '/auth/callback'], limits.failedAuth.countFailure);
  return router;
}

function openTransaction(req: Request, sessions: Sessions, now: Date): SealedTransaction {
  const values = cookieValues(req, sessions.names.login);
  if (values.length !== 1)
    throw signInFailed(
      'no_sign_in_in_progress',
      'No sign-in was started from this browser (or it was started twice); start again from /auth/login.',
    );
  const opened = sessions.sealer.open(values[0] as string) as SealedTransaction | undefined;
  if (
    !opened ||
    typeof opened.state !== 'string' ||
    typeof opened.nonce !== 'string' ||
    typeof opened.verifier !== 'string'
  ) {
    throw signInFailed('sign_in_cookie_invalid');
  }
  if (opened.expiresAt <= now.getTime())
    throw signInFailed('sign_in_expired', `The sign-in took longer than ${SIGN_IN_WINDOW_S} s; start again.`);
  return opened;
}
