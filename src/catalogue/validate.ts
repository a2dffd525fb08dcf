import type { z } from 'zod';
import { hasUnstorableText } from '../db/text';
import { GatewayError, type ErrorDetail } from '../errors/codes';
import type { Action } from './actions';
import type { Operation } from './operations';
import { emptyBody, FIELD_HINTS, ID_PATTERN } from './schemas';

export interface ValidInput {
  query: Record<string, string>;
  body?: Record<string, unknown>;
}

/**
 * Checks path ids, query and body against the operation's schemas and returns what will be
 * forwarded: the parsed, normalised values only, never the raw request. Every problem is reported at once.
 */
export function validateInput(
  operation: Operation,
  params: Record<string, string>,
  query: unknown,
  body: unknown,
): ValidInput {
  const details: ErrorDetail[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (!ID_PATTERN.test(value)) {
      details.push({
        location: 'path',
        field: name,
        code: 'invalid_id',
        message: 'must be 1-128 letters, digits, "_" or "-" (no separators or encodings)',
      });
    }
  }
  details.push(...unstorableText(query, body));
  const parsedQuery = parseWith(operation.query, query ?? {}, 'query', details);
  let parsedBody: Record<string, unknown> | undefined;
  if (operation.body) {
    parsedBody = parseWith(
      operation.body,
      body === undefined && operation.body === emptyBody ? {} : body,
      'body',
      details,
    );
  }
  if (details.length > 0) throw new GatewayError('validation_failed', 'The request is not valid.', details);
  // An operation whose body must be empty forwards none, as the reference's example sends none.
  return { query: stringify(parsedQuery ?? {}), body: operation.body === emptyBody ? undefined : parsedBody };
}

/**
 * The input of one of the gateway's own actions, against its catalogue row's schemas, reported as the Management
 * operations' are. Text no database could store as sent (NUL, a lone surrogate) is refused in every action's query
 * and body (issue 23, finding 10): never a 5xx for what the client sent.
 */
export interface ActionInput {
  query: Record<string, unknown>;
  body: Record<string, unknown> | undefined;
}

export function validateActionInput(action: Action, query: unknown, body: unknown): ActionInput {
  const details: ErrorDetail[] = unstorableText(query, body);
  if (details.length > 0) throw new GatewayError('validation_failed', 'The request is not valid.', details);
  const parsedQuery = action.query ? parseWith(action.query, query ?? {}, 'query', details) : undefined;
  const parsedBody = action.body ? parseWith(action.body, body ?? {}, 'body', details) : undefined;
  if (details.length > 0) throw new GatewayError('validation_failed', 'The request is not valid.', details);
  return { query: parsedQuery ?? {}, body: parsedBody };
}

function unstorableText(query: unknown, body: unknown): ErrorDetail[] {
  const where = hasUnstorableText(query) ? 'query' : hasUnstorableText(body) ? 'body' : undefined;
  if (!where) return [];
  return [
    {
      location: where,
      code: 'invalid_characters',
      reason: 'invalid_characters',
      message: 'text must not contain NUL characters or unpaired UTF-16 surrogates',
    },
  ];
}

function parseWith(
  schema: z.ZodType<Record<string, unknown>>,
  value: unknown,
  location: string,
  details: ErrorDetail[],
) {
  if (
    location === 'body' &&
    (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value))
  ) {
    details.push({
      location,
      code: value === undefined ? 'required' : 'invalid_type',
      message: 'the body must be a JSON object',
    });
    return undefined;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) details.push(...describeIssue(issue, location, value));
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue, location: string, input: unknown): ErrorDetail[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      location,
      field: key,
      code: 'unknown_field',
      message: Object.hasOwn(FIELD_HINTS, key) ? `unknown field: ${FIELD_HINTS[key]}` : 'unknown field',
    }));
  }
  const field = issue.path.join('.');
  const code = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined ? 'required' : issue.code;
  return [
    { location, ...(field ? { field } : {}), code, message: code === 'required' ? 'is required' : issue.message },
  ];
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, key) => (value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined),
    input,
  );
}

function stringify(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) if (value !== undefined) out[key] = String(value);
  return out;
}
