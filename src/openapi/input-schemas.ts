import { z } from 'zod';
import type { OperationId } from '../catalogue/operations';

/**
 * Request inputs as JSON Schema, generated from the catalogue's zod schemas (`z.toJSONSchema`, input side), so
 * the reference cannot drift from what validation accepts. What zod cannot express is added from the tables
 * below: refinements (an absolute http(s) URL, "at least one field") and the reference's field descriptions.
 */
export type JsonSchema = Record<string, unknown>;

/** From the reference's attribute lists; a test fails if an input field has no entry here. */
export const FIELD_DOCS: Record<string, JsonSchema> = {
  name: { description: 'The application’s name, shown to a user connecting an account. Not blank.' },
  description: { description: 'A description of the application.' },
  logo_url: { description: 'An absolute http(s) URL of the application’s logo, or "" for none.' },
  active: {
    description: 'Whether the application is active. An inactive application permits no API requests to its accounts.',
  },
  implicit_grant_enabled: {
    description: 'Allow the OAuth 2.0 Implicit Grant flow. JSON booleans, or the reference’s `True`/`False`.',
  },
  recent_enabled: {
    description: 'Collect data on recent activity in accounts. JSON booleans, or the reference’s `True`/`False`.',
  },
  events_enabled: {
    description:
      'Collect event data for accounts (the reference’s create list misspells it `events_grant_enabled`, which is refused with a hint).',
  },
  source: {
    description:
      'The id of another application to use as a template: its settings and OAuth keys are copied. Copying keys creates credentials, so this also needs the `apikeys.create` permission.',
  },
  url: { description: 'The webhook URL: an absolute http(s) URL.', format: 'uri' },
  page_size: { description: 'Number of objects in each page (1 to 1000). The upstream’s default is 10.' },
  page: { description: 'Page to return, from 1 (the default).' },
};

/** Refinements zod keeps in code, stated for the document's readers. */
export const BODY_RULES: Partial<Record<OperationId, JsonSchema>> = {
  'applications.update': {
    minProperties: 1,
    description: 'At least one field to update. `source` cannot be used in an update.',
  },
  'apikeys.create': { description: 'The body is empty, or `{}`.' },
};

/** The reference's example requests, shown in the reference page and sent by the tests. */
export const BODY_EXAMPLES: Partial<Record<OperationId, JsonSchema>> = {
  'applications.create': { name: 'Test App 1', description: 'A test application.' },
  'applications.update': { description: 'A better test application.' },
  'apikeys.create': {},
  'webhooks.create': { url: 'http://localhost:5000' },
};

/**
 * The JSON Schema of a request input; numbers that arrive as digits in a query string are stated as integers.
 * `fieldDocs` describes fields by name: the Management operations' from the reference (FIELD_DOCS); the gateway's
 * own actions describe theirs in their zod schemas (`.meta()`, src/catalogue/gateway-schemas.ts).
 */
export function inputSchema(schema: z.ZodType, fieldDocs: Record<string, JsonSchema> = FIELD_DOCS): JsonSchema {
  const json: JsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', override: digitsAsInteger });
  delete json.$schema; // the document's dialect is already JSON Schema 2020-12 (OpenAPI 3.1)
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, property] of Object.entries(properties)) properties[name] = { ...property, ...fieldDocs[name] };
  return json;
}

/** An object schema of query parameters, as OpenAPI parameter objects (a field's description and example on the parameter). */
export function queryParameters(schema: z.ZodType, fieldDocs?: Record<string, JsonSchema>): JsonSchema[] {
  const json = inputSchema(schema, fieldDocs);
  const required = (json.required ?? []) as string[];
  return Object.entries((json.properties ?? {}) as Record<string, JsonSchema>).map(([name, property]) => {
    const { description, example, ...rest } = property;
    return {
      name,
      in: 'query',
      required: required.includes(name),
      ...(description ? { description } : {}),
      schema: asQueryText(rest),
      ...(example === undefined ? {} : { example }),
    };
  });
}

/**
 * `page_size` is digits piped into a bounded number (src/catalogue/schemas.ts); the input side alone would read
 * "a string matching ^\d{1,4}$". The output side's bounds, on an integer, say what is accepted.
 */
function digitsAsInteger(ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void {
  const def = (ctx.zodSchema as { _zod: { def: { type: string; out?: z.ZodType } } })._zod.def;
  if (
    def.type !== 'pipe' ||
    !def.out ||
    (def.out as unknown as { _zod: { def: { type: string } } })._zod.def.type !== 'number'
  )
    return;
  const { minimum, maximum } = z.toJSONSchema(def.out, { io: 'output' }) as JsonSchema;
  for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
  Object.assign(ctx.jsonSchema, {
    type: 'integer',
    ...(minimum === undefined ? {} : { minimum }),
    ...(maximum === undefined ? {} : { maximum }),
  });
}

/** A query string carries text: "a boolean or one of these strings" is, on the wire, one of these strings. */
function asQueryText(schema: JsonSchema): JsonSchema {
  const members = schema.anyOf as JsonSchema[] | undefined;
  if (!members) return schema;
  const texts = members.map((m) => (m.type === 'boolean' ? { type: 'string', enum: ['true', 'false'] } : m));
  if (!texts.every((m) => m.type === 'string' && Array.isArray(m.enum))) return schema;
  const { anyOf: _anyOf, ...rest } = schema;
  return { ...rest, type: 'string', enum: [...new Set(texts.flatMap((m) => m.enum as string[]))] };
}
