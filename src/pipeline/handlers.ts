import type { Request, Response } from 'express';

/**
 * The handler of each of the gateway's own actions, by catalogue id. The dispatch (src/pipeline/dispatch.ts) runs
 * one once the action is resolved, metered, decided and its input validated; a handler only does its action's work.
 */
export type ActionHandler = (req: Request, res: Response) => Promise<unknown> | void;
export type ActionHandlers = Record<string, ActionHandler>;
