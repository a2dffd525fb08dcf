import type { z } from 'zod';
import { GatewayError } from '../errors/codes';

/** Parses a gateway endpoint's own query or body, refusing with validation_failed and every problem. */
export function parseOrFail<T>(schema: z.ZodType<T>, value: unknown, location: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new GatewayError(
    'validation_failed',
    undefined,
    result.error.issues.map((i) => ({
      location,
      ...(i.path.length ? { field: i.path.join('.') } : {}),
      code: i.code,
      message: i.message,
    })),
  );
}
