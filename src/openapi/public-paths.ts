import type { JsonSchema } from './input-schemas';
import { answer, ref, type Responses } from './responses';

/**
 * The endpoints outside /v1 that need no token (src/routes/health.ts, src/openapi/routes.ts): not actions of the
 * catalogue, so written here by hand. The test calls each one against the gateway.
 */
export interface PublicOperation {
  path: string;
  method: 'get';
  operation: JsonSchema;
}

const json = (schema: JsonSchema) => ({ 'application/json': schema });

const unauthenticated = (
  operationId: string,
  tag: string,
  summary: string,
  description: string,
  responses: Responses,
): JsonSchema => ({
  operationId,
  summary,
  description,
  tags: [tag],
  security: [],
  responses,
});

export const PUBLIC_OPERATIONS: readonly PublicOperation[] = [
  {
    path: '/healthz',
    method: 'get',
    operation: unauthenticated(
      'healthz',
      'Operations',
      'Liveness',
      'The process is alive. Not logged.',
      answer(200, 'Alive.', json({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } })),
    ),
  },
  {
    path: '/readyz',
    method: 'get',
    operation: unauthenticated(
      'readyz',
      'Operations',
      'Readiness',
      'Every critical dependency answered and the gateway is not draining. Why a check failed goes to the log, not to this unauthenticated caller.',
      {
        ...answer(200, 'Ready.', json(ref('schemas', 'Readiness'))),
        ...answer(503, 'Not ready, or draining.', json(ref('schemas', 'Readiness'))),
      },
    ),
  },
  {
    path: '/openapi.json',
    method: 'get',
    operation: unauthenticated(
      'openapi',
      'Reference',
      'This document',
      'The OpenAPI 3.1 document, generated from the operations catalogue.',
      answer(200, 'The document.', json({ type: 'object' })),
    ),
  },
  {
    path: '/docs',
    method: 'get',
    operation: unauthenticated(
      'docs',
      'Reference',
      'This reference, for people',
      'A readable reference page; its assets are served by the gateway itself.',
      answer(200, 'The page.', { 'text/html': { type: 'string' } }),
    ),
  },
];
