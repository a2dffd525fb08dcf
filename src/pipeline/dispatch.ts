import type { RequestHandler } from 'express';
import type { ActionHandlers } from './handlers';

/**
 * The last step of every action: a Management operation goes on to the forwarding steps (`management`); one of the
 * gateway's own runs its handler. Both come here resolved, metered, decided and validated by the same steps.
 */
export function dispatch(management: RequestHandler, handlers: ActionHandlers): RequestHandler {
  const missing = (id: string) => new Error(`no handler for the catalogue's action ${id}`);
  return (req, res, next) => {
    const action = res.locals.action;
    if (!action) throw new Error('dispatch runs after resolveAction');
    if (action.operation) return management(req, res, next);
    const handler = handlers[action.id];
    if (!handler) throw missing(action.id);
    return handler(req, res);
  };
}
