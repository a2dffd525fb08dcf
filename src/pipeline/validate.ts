import type { RequestHandler } from 'express';
import { validateActionInput, validateInput } from '../catalogue/validate';

/**
 * Bad input never reaches the upstream or a store: every action's input is checked against its catalogue row, and
 * only the validated, normalised input is kept (`input` for a Management operation, `actionInput` for the
 * gateway's own actions).
 */
export function validate(): RequestHandler {
  return (req, res, next) => {
    const { action, operation, params } = res.locals;
    if (!action || !params) throw new Error('validate runs after resolveAction');
    if (operation) res.locals.input = validateInput(operation, params, req.query, req.body);
    else res.locals.actionInput = validateActionInput(action, req.query, req.body);
    next();
  };
}
