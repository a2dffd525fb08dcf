import type { RequestHandler } from 'express';
import { validateInput } from '../catalogue/validate';

/** Bad input never reaches the upstream: only the validated, normalised input is kept for forwarding. */
export function validate(): RequestHandler {
  return (req, res, next) => {
    const { operation, params } = res.locals;
    if (!operation || !params) throw new Error('validate runs after resolveOperation');
    res.locals.input = validateInput(operation, params, req.query, req.body);
    next();
  };
}
