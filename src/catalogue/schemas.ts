import { z } from 'zod';

/** Ids as the Management API issues them (`wSPk9y5D7p5o87k0ACGKxR`, `100`); nothing that could change the path. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** Team names, as tokens carry them and as ownership records and audit entries store them. */
export const TEAM_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export const id = z.string().regex(ID_PATTERN, 'must be 1-128 letters, digits, "_" or "-"');

/** The reference spells booleans `True`/`False`; JSON clients send true/false. Both are accepted. */
const flexibleBoolean = z.union([
  z.boolean(),
  z.enum(['true', 'false', 'True', 'False']).transform((s) => s.toLowerCase() === 'true'),
]);

const httpUrl = z
  .string()
  .max(2048)
  .refine((s) => isAbsoluteHttpUrl(s), 'must be an absolute http(s) URL');

export function isAbsoluteHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const pageSize = z
  .string()
  .regex(/^\d{1,4}$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().min(1).max(1000));
const page = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().min(1));

export const paginationQuery = z.strictObject({ page_size: pageSize.optional(), page: page.optional() });

export const applicationsListQuery = paginationQuery.extend({
  // Forwarded in the reference's own spelling, `True`/`False`.
  active: flexibleBoolean.transform((b) => (b ? 'True' : 'False')).optional(),
});

export const noQuery = z.strictObject({});

const applicationFields = {
  description: z.string().max(10_000).optional(),
  logo_url: z.union([z.literal(''), httpUrl]).optional(),
  implicit_grant_enabled: flexibleBoolean.optional(),
  recent_enabled: flexibleBoolean.optional(),
  events_enabled: flexibleBoolean.optional(),
};

const applicationName = z.string().trim().min(1, 'is required').max(255);

export const applicationCreateBody = z.strictObject({
  name: applicationName,
  ...applicationFields,
  source: id.optional(),
});

export const applicationUpdateBody = z
  .strictObject({ name: applicationName.optional(), active: flexibleBoolean.optional(), ...applicationFields })
  .refine((body) => Object.keys(body).length > 0, 'name at least one field to update');

export const webhookCreateBody = z.strictObject({ url: httpUrl });

/** "The body of the request is empty" (reference, Create an API Key): nothing or `{}`. */
export const emptyBody = z.strictObject({});

/** Fields a client may plausibly send by mistake, with the hint its validation error carries. */
export const FIELD_HINTS: Record<string, string> = {
  events_grant_enabled: 'the attribute is events_enabled (the reference misspells it in the create list)',
  source: 'source can only be used when creating an application',
  id: 'ids are chosen by the Management API',
  created: 'timestamps are set by the Management API',
  modified: 'timestamps are set by the Management API',
};
