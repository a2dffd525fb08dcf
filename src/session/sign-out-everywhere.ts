import type { AuditRecorder } from '../audit/recording/recorder';
import { issuerOf } from '../auth/person';
import { requestFacts } from '../pipeline/audit-facts';
import type { ActionHandlers } from '../pipeline/handlers';
import { clearCookie, cookieValues } from './cookies';
import type { Sessions } from './sessions';

/**
 * `POST /v1/me/sessions/end` (issue 24): "sign out everywhere", a catalogue row (src/catalogue/actions.ts) through
 * the one /v1 pipeline like every other action. Ends every browser session of the caller — the person, issuer and
 * subject (src/auth/person.ts) — on every instance at once (the rows are gone), and records it.
 */
export function sessionActionHandlers(sessions: Sessions | undefined, recorder: AuditRecorder): ActionHandlers {
  return {
    async 'me.sign_out_everywhere'(req, res) {
      const me = res.locals.principal;
      if (!me) throw new Error('actions run after authenticate');
      const ended = sessions ? await sessions.store.deleteAllOf({ issuer: issuerOf(me), sub: me.sub }) : 0;
      await recorder.recordAccess(requestFacts(req, res), 'session.sign_out_everywhere', { sessions_ended: ended });
      if (sessions && cookieValues(req, sessions.names.session).length > 0) clearCookie(res, sessions.names, 'session');
      res.set('Cache-Control', 'no-store').json({ sessions_ended: ended });
    },
  };
}
