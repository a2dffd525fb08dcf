import type { Actor } from './facts';

/**
 * An entry made for a signed-in browser says so in its `details`: `credential: "browser_session"` and the session id's
 * HMAC fingerprint (never the id), so a reviewer can follow one session, and tell browser calls from token calls.
 * Entries of bearer-token calls are unchanged.
 */
export function withSessionMark(actor: Actor | null | undefined, details: unknown): unknown {
  if (!actor?.session) return details;
  const mark = { credential: 'browser_session', session_fingerprint: actor.session };
  return details && typeof details === 'object' && !Array.isArray(details)
    ? { ...(details as Record<string, unknown>), ...mark }
    : mark;
}
