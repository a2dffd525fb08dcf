import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ACTIONS } from '../catalogue/actions';
import { API_PREFIX } from '../catalogue/match';
import type { Operation } from '../catalogue/operations';
import { emptyBody, ID_PATTERN } from '../catalogue/schemas';
import type { ErrorCode } from '../errors/codes';
import { SCHEMAS } from './components';
import { APPROVAL_ACCEPTED, APPROVAL_HEADERS, APPROVAL_REFUSALS, APPROVAL_SCHEMAS } from './approval-objects';
import { gatewayOperation, templateOf } from './gateway-actions';
import { GATEWAY_SCHEMAS, LOG_SCHEMAS } from './gateway-objects';
import { PUBLIC_OPERATIONS } from './public-paths';
import { BODY_EXAMPLES, BODY_RULES, inputSchema, queryParameters, type JsonSchema } from './input-schemas';
import { TEAM_PATTERN } from '../ownership/teams';
import {
  answer,
  AUTHENTICATED,
  envelopeWith,
  HEADERS,
  ref,
  refusalComponents,
  refusals,
  type Responses,
} from './responses';

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  servers?: { url: string }[];
  security: Record<string, string[]>[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: Record<string, Record<string, JsonSchema>>;
}

/** Same relative path from src/openapi (tsx, jest) and dist/openapi (built). */
const VERSION = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;

/** The catalogue's resource families; an operation of a family not listed here stops the build of the document. */
const RESOURCES: Record<string, { tag: string; object: string; page: string }> = {
  applications: { tag: 'Applications', object: 'Application', page: 'ApplicationPage' },
  apikeys: { tag: 'API keys', object: 'ApiKey', page: 'ApiKeyPage' },
  webhooks: { tag: 'Webhooks', object: 'Webhook', page: 'WebhookPage' },
};

/** What each kind of operation answers on success (the reference: creates 201, deletes 204 with no body). */
const VERBS: Record<string, { status: number; body?: 'object' | 'page'; description: string }> = {
  list: { status: 200, body: 'page', description: 'A page of objects.' },
  get: { status: 200, body: 'object', description: 'The object.' },
  create: { status: 201, body: 'object', description: 'The new object.' },
  update: { status: 200, body: 'object', description: 'The object as updated.' },
  delete: { status: 204, description: 'Deleted.' },
};

const PATH_PARAMETERS: Record<string, { description: string; example: string }> = {
  application_id: { description: 'The application’s id (App ID).', example: 'wSPk9y5D7p5o87k0ACGKxR' },
  webhook_id: { description: 'The webhook’s id.', example: '100' },
  apikey_key: {
    description:
      'The API key itself. A credential: it is logged masked and stored in the audit trail only as a fingerprint.',
    example: '80OdF5hXzkNqEs9DHRkiA1EXz1pbF4',
  },
};

const TAGS = [
  { name: 'Applications', description: 'Kloudless applications (the Management API, through the gateway).' },
  {
    name: 'API keys',
    description:
      'API keys of an application. Credentials: only roles granted `apikeys.*` touch them, and values are masked unless `apikeys.reveal` is granted.',
  },
  { name: 'Webhooks', description: 'Webhooks of an application.' },
  { name: 'Identity', description: 'Who the caller is.' },
  { name: 'Policy', description: 'Which role may do what.' },
  {
    name: 'Ownership',
    description: 'Which team owns which application: read, assign, transfer, import, and find the unowned ones.',
  },
  {
    name: 'Approvals',
    description:
      'The two-person rule: guarded operations wait here for a second person’s approval, then the gateway runs them once.',
  },
  { name: 'Audit', description: 'Review the append-only, hash-chained audit trail of every mutation.' },
  { name: 'Operations', description: 'Probes for load balancers and orchestrators. No token needed.' },
  { name: 'Reference', description: 'This document and its readable page. No token needed.' },
];

const DESCRIPTION = `A gateway in front of the Kloudless Management API. Call it exactly as the Management API — same paths under \`/v1\`, methods, query parameters, JSON bodies and responses — with a bearer token instead of the DeveloperKey, which never leaves the gateway.

**Authentication.** Scripts send \`Authorization: Bearer <JWT>\` from the company's identity provider with every \`/v1\` request. Browsers sign in at \`/auth/login\` (the company's IdP, OpenID Connect code flow with PKCE; the gateway keeps every token) and then carry only the session cookie \`kgw-session\` (\`__Host-kgw-session\` over https: HttpOnly, SameSite=Strict); a request authenticated by that cookie must also carry the CSRF header \`X-Requested-With: kloudless-gateway\` (\`403 csrf_header_missing\` without it), which no cross-site form can send and CORS never allows. A request with an \`Authorization\` header is the bearer token's, whatever cookies it has; tokens in query strings are ignored. A missing token is \`401 unauthenticated\`; a refused one \`401 invalid_token\` with the reason in \`details[0].reason\`; an ended session \`401 unauthenticated\` (\`session_ended\`). \`POST /v1/me/sessions/end\` signs the caller out everywhere. Failed sign-ins count against the address's failed-authentication limit, and the identity provider's token endpoint has a global budget (\`OIDC_TOKEN_CALLS_PER_MINUTE\`).

**Roles and permissions.** Each operation id (\`applications.list\`, …) is a permission; a policy grants permissions to roles (the token's \`roles\` claim), default deny. \`x-permission\` on each operation names the permission it needs; \`GET /v1/me\` lists the caller's. Two permissions are not operations: \`apikeys.reveal\` (see API key values in full) and \`audit.read\` (review the audit trail).

**Teams and ownership.** Each application has an owning team, and each role a scope: \`team\` roles reach only applications owned by one of the caller's teams (the token's \`teams\` claim, shown in \`GET /v1/me\` with each permission's scope), \`any\` roles reach every application. Another team's application, an unowned one and a missing one all answer the same \`404 not_found\`, and a team-scoped \`GET /v1/applications\` lists, counts and pages only the caller's teams' applications. A create names its owner with \`X-Team\` (optional for a caller in exactly one team). \`/v1/ownership\` administers owners. If ownership cannot be read the request is refused, \`503 ownership_unavailable\`, never let through.

**Mutations** (\`x-mutates: true\`) are recorded in the audit trail before they are forwarded, and again with their outcome. If the trail cannot record one in time it is not made: \`503 audit_unavailable\`.

**Two-person rule.** The policy may guard mutating operations (built-in: \`applications.delete\`): such a call, once authenticated, authorized and validated, is not forwarded but answered \`202 Accepted\` with \`Location: /v1/approvals/{id}\` and the pending request. Since the policy decides which operations are guarded, every mutating operation documents the 202. A second person approves it (\`POST /v1/approvals/{id}/approve\`) and the gateway then runs the stored request exactly once; the requester reads the result with \`GET /v1/approvals/{id}\`. \`X-Approval-Reason\` tells approvers why; \`X-Approval-Bypass\` (break-glass, \`approvals.bypass\`) runs it at once. A second request for the same operation and target while one is pending is \`409 conflict\` (reason \`approval_pending\`, with the first one’s id).

**Errors.** Everything the gateway itself refuses is answered in one envelope, \`{"error": {"code", "message", "request_id", "details"}}\`, with a stable \`code\`. A catalogued path called with another method is \`405 method_not_allowed\` with \`Allow\`; any other path is \`404 not_found\`. Errors of the Management API itself (\`{"status_code", "error_code", "message", "id"}\`) pass through unchanged, so the two are told apart by the envelope.

**Rate limits.** Reads and mutations are limited per person (\`RateLimit\` and \`RateLimit-Policy\` headers), failed authentication per client address, and the shared key has a global budget: \`429 rate_limited\` with \`Retry-After\`.

Every response carries \`X-Request-Id\`; send your own (8–128 of \`A-Za-z0-9._:-\`) to correlate.`;

/** Either a bearer token, or a browser session's cookie together with the CSRF header (issue 24). */
const SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { browserSession: [], csrfHeader: [] }];

/**
 * The OpenAPI 3.1 document: every action of the catalogue under /v1 (src/catalogue/actions.ts: the Management
 * operations, then the gateway's own), so a new row appears by itself, then the public endpoints outside /v1.
 * Built from constants only, so every call returns the same document, as a fresh copy.
 */
export function buildOpenApiDocument(options: { serverUrl?: string } = {}): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const add = (at: string, method: string, operation: JsonSchema) => {
    paths[at] ??= {};
    if (paths[at][method]) throw new Error(`OpenAPI: ${method.toUpperCase()} ${at} is documented twice`);
    paths[at][method] = operation;
  };
  for (const action of ACTIONS.filter((a) => a.path.startsWith(`${API_PREFIX}/`)))
    add(
      templateOf(action.path),
      action.method.toLowerCase(),
      action.operation ? catalogueOperation(action.operation) : gatewayOperation(action),
    );
  for (const { path: at, method, operation } of PUBLIC_OPERATIONS) add(at, method, operation);

  return structuredClone({
    openapi: '3.1.0',
    info: { title: 'Kloudless Management Gateway', version: VERSION, description: DESCRIPTION },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: SECURITY,
    tags: TAGS,
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT from the identity provider; roles in its `roles` claim (or the configured one).',
        },
        browserSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'kgw-session',
          description:
            'A browser session, made by signing in at `/auth/login` (OpenID Connect with the company’s IdP). The cookie is `__Host-kgw-session` (Secure) when the gateway is served over https, `kgw-session` on the local default’s http://127.0.0.1. HttpOnly, SameSite=Strict; it holds a random id, the session lives on the server. Always with `csrfHeader`.',
        },
        csrfHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Requested-With',
          description:
            'CSRF protection for cookie-authenticated requests: the value `kloudless-gateway`, on every request that carries the session cookie (`403 csrf_header_missing` without it; the refusal of a mutation is recorded in the audit trail). Not needed with a bearer token.',
        },
      },
      headers: HEADERS,
      responses: refusalComponents(paths),
      schemas: { ...SCHEMAS, ...GATEWAY_SCHEMAS, ...LOG_SCHEMAS, ...APPROVAL_SCHEMAS },
    },
  });
}

function catalogueOperation(op: Operation): JsonSchema {
  const [family = '', verb = ''] = op.id.split('.');
  const resource = RESOURCES[family];
  const outcome = VERBS[verb];
  if (!resource || !outcome)
    throw new Error(`OpenAPI: no mapping for ${op.id}; add its family to RESOURCES or its verb to VERBS`);

  const pathParameters = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    description: PATH_PARAMETERS[name]?.description ?? 'An id.',
    schema: { type: 'string', pattern: ID_PATTERN.source },
    ...(PATH_PARAMETERS[name] ? { example: PATH_PARAMETERS[name].example } : {}),
  }));
  const parameters = [
    ...pathParameters,
    ...queryParameters(op.query),
    ...(HEADER_PARAMETERS[op.id] ?? []),
    ...(op.mutates ? APPROVAL_HEADERS : []),
  ];
  const success = answer(
    outcome.status,
    outcome.description,
    outcome.body
      ? { 'application/json': ref('schemas', outcome.body === 'page' ? resource.page : resource.object) }
      : undefined,
  );

  return {
    operationId: op.id,
    summary: op.summary,
    description: describe(op),
    tags: [resource.tag],
    'x-permission': op.id,
    ...(op.mutates ? { 'x-mutates': true } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body ? { requestBody: requestBody(op) } : {}),
    // Which mutations are guarded is the policy's choice, made at run time: every one may answer 202.
    responses: {
      ...success,
      ...(op.mutates ? APPROVAL_ACCEPTED : {}),
      ...upstreamErrors(refusals(refusalCodes(op), { upstream: true }), pathParameters.length > 0),
    },
  };
}

/** Request headers an operation reads besides Authorization. */
const HEADER_PARAMETERS: Record<string, JsonSchema[]> = {
  'applications.create': [
    {
      name: 'X-Team',
      in: 'header',
      required: false,
      description:
        'The team that will own the new application: one of the caller’s teams (any team for an `any`-scoped role). May be omitted by a caller in exactly one team. Missing otherwise: `400 validation_failed` (reason `team_required`), or `403 forbidden` (`no_team`) for a `team`-scoped caller in no team; a team the `team`-scoped caller is not in: `403 forbidden` (`not_team_member`).',
      schema: { type: 'string', pattern: TEAM_PATTERN.source },
      example: 'demo',
    },
  ],
};

function describe(op: Operation): string {
  return [
    `Needs the \`${op.id}\` permission.`,
    op.mutates ? 'A mutation: recorded in the audit trail before it is forwarded, and again with its outcome.' : '',
    op.mutates
      ? 'If the policy guards it with the two-person rule, it is not forwarded but answered `202` with the pending approval request.'
      : '',
    op.inputPermission ? 'Some inputs need a further permission (see the body’s fields).' : '',
    op.returnsSecrets
      ? 'The response carries API key values: shown in full only with `apikeys.reveal`, never cached.'
      : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function requestBody(op: Operation): JsonSchema {
  const schema = { ...inputSchema(op.body!), ...BODY_RULES[op.id] };
  const example = BODY_EXAMPLES[op.id];
  return {
    // "The body of the request is empty" (reference, Create an API Key): nothing, or `{}`.
    required: op.body !== emptyBody,
    content: { 'application/json': { schema, ...(example ? { example } : {}) } },
  };
}

function refusalCodes(op: Operation): ErrorCode[] {
  return [
    ...AUTHENTICATED,
    'forbidden',
    'validation_failed',
    // The one body reader of every action (src/http/json-body.ts).
    ...(op.body
      ? (['invalid_json', 'invalid_content_encoding', 'payload_too_large', 'unsupported_media_type'] as const)
      : []),
    ...(op.mutates ? (['audit_unavailable', ...APPROVAL_REFUSALS] as const) : []),
    // Every operation may read ownership: the target's owner, a create's source template, a team's list.
    'ownership_unavailable',
    'upstream_unavailable',
    'upstream_bad_response',
    'upstream_timeout',
  ];
}

/** The Management API's own errors pass through unchanged (README, "Forwarding"). */
function upstreamErrors(responses: Responses, hasIds: boolean): Responses {
  const upstream = ref('schemas', 'UpstreamError');
  return {
    ...responses,
    ...(hasIds
      ? answer(
          404,
          'No such object: the Management API’s own answer, passed through; or, to a `team`-scoped caller naming an application its teams do not own (or that does not exist), the gateway’s `not_found`, the same for both.',
          { 'application/json': { anyOf: [envelopeWith(['not_found']), upstream] } },
        )
      : {}),
    default: {
      description: 'Any other error of the Management API, passed through unchanged.',
      content: { 'application/json': { schema: upstream } },
    },
  };
}
