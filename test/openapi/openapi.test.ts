import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Browser } from 'playwright-core';
import { describeInBrowser, launchChromium, screenshotPath } from '../helpers/browser';
import { ACTIONS, type Action } from '../../src/catalogue/actions';
import { OPERATIONS } from '../../src/catalogue/operations';
import { ERROR_CODES } from '../../src/errors/codes';
import { buildOpenApiDocument } from '../../src/openapi/document';
import { FIELD_DOCS } from '../../src/openapi/input-schemas';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

/**
 * The API reference: the OpenAPI 3.1 document passes a real OpenAPI validator, covers the catalogue and the
 * gateway's own endpoints, and says what the running gateway really answers (every operation is called, every
 * answer checked against the schema the document declares for it); `/openapi.json` and `/docs` serve it, and
 * the page renders in Chromium under helmet's Content-Security-Policy.
 */
type Json = Record<string, unknown>;
interface DocOperation {
  method: string;
  path: string;
  key: string;
  operation: {
    operationId: string;
    tags: string[];
    security?: unknown[];
    parameters?: Json[];
    requestBody?: { content: Record<string, { example?: unknown }> };
    responses: Record<string, Json>;
    [k: string]: unknown;
  };
}

const document = buildOpenApiDocument();
const documentJson = document as unknown as Json;
const operationsOf = (doc: { paths: Record<string, Record<string, unknown>> }): DocOperation[] =>
  Object.entries(doc.paths).flatMap(([at, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      method,
      path: at,
      key: `${method.toUpperCase()} ${at}`,
      operation: operation as DocOperation['operation'],
    })),
  );
const documented = operationsOf(document);

/** The catalogue's actions under /v1 (the Management operations and the gateway's own), as the document keys them. */
const V1_ACTIONS = ACTIONS.filter((a) => a.path.startsWith('/v1/'));
const keyOf = (a: Action) => `${a.method} ${a.path.replace(/:(\w+)/g, '{$1}')}`;
/** The endpoints outside /v1 that need no token: not catalogue actions (operation id by method and path). */
const PUBLIC_ENDPOINTS: Record<string, string> = {
  'GET /healthz': 'healthz',
  'GET /readyz': 'readyz',
  'GET /openapi.json': 'openapi',
  'GET /docs': 'docs',
};
const PUBLIC = new Set(Object.keys(PUBLIC_ENDPOINTS));
const MOUNT_HINT =
  'docsRoutes() is not mounted: add `app.use(docsRoutes());` after `app.use(healthRoutes(…))` in src/app.ts';

/** ESM-only; `new Function` keeps TypeScript from turning the import() into a require() (needs --experimental-vm-modules, as `npm test` runs jest). */
const importEsm = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<Record<string, unknown>>;

interface SchemaValidator {
  validate(spec: unknown): Promise<{ valid: boolean; errors?: unknown }>;
  resolveRefs(): Json;
}
let Validator: new () => SchemaValidator;
let validation: { valid: boolean; errors?: unknown };
let resolved: Json;

beforeAll(async () => {
  ({ Validator } = (await importEsm('@seriousme/openapi-schema-validator')) as {
    Validator: new () => SchemaValidator;
  });
  const validator = new Validator();
  validation = await validator.validate(structuredClone(document));
  resolved = validator.resolveRefs();
});

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect), strict: an unknown keyword or a malformed one is an error, not ignored. */
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
addFormats(ajv);
ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
const compiled = new Map<unknown, ValidateFunction>();
const schemaCheck = (schema: unknown) => {
  if (!compiled.has(schema)) compiled.set(schema, ajv.compile(schema as Json));
  return compiled.get(schema)!;
};
const resolvedOperation = (op: DocOperation) =>
  ((resolved.paths as Json)[op.path] as Json)[op.method] as DocOperation['operation'];

describe('the OpenAPI document', () => {
  test('when validated with @seriousme/openapi-schema-validator, then it is a valid OpenAPI 3.1 document (and a broken copy is not)', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(validation).toEqual({ valid: true });
    const broken = structuredClone(document) as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
    };
    delete broken.paths['/v1/me']!.get!.responses['200']!.description; // required by the OpenAPI schema
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  test('when every schema in it is compiled as JSON Schema 2020-12 in strict mode, then none has an unknown or malformed keyword, and every example fits', () => {
    const schemas: unknown[] = [...Object.values((resolved.components as { schemas: Json }).schemas)];
    for (const op of documented) {
      const resolvedOp = resolvedOperation(op);
      for (const p of resolvedOp.parameters ?? []) schemas.push(p.schema);
      for (const media of Object.values(
        (resolvedOp.requestBody?.content ?? {}) as Record<string, { schema: unknown; example?: unknown }>,
      )) {
        schemas.push(media.schema);
        if (media.example !== undefined)
          expect({
            op: op.key,
            errors: schemaCheck(media.schema)(media.example) ? null : schemaCheck(media.schema).errors,
          }).toEqual({ op: op.key, errors: null });
      }
      for (const response of Object.values(resolvedOp.responses)) {
        for (const media of Object.values(
          (response.content ?? {}) as Record<string, { schema: unknown; example?: unknown }>,
        )) {
          schemas.push(media.schema);
          if (media.example !== undefined) expect(schemaCheck(media.schema)(media.example)).toBe(true);
        }
      }
    }
    for (const schema of schemas) expect(() => schemaCheck(schema)).not.toThrow();
  });

  test('when built twice, then both are the same document, and changing one does not change the next', () => {
    const first = buildOpenApiDocument();
    (first.paths['/v1/me'] as Json).get = 'changed';
    expect(JSON.stringify(buildOpenApiDocument())).toBe(JSON.stringify(document));
    expect(buildOpenApiDocument({ serverUrl: 'https://gateway.example' }).servers).toEqual([
      { url: 'https://gateway.example' },
    ]);
  });

  test('when read for the catalogue, then each operation is there with its method, path, id, tag, permission, x-mutates and success status', () => {
    const successStatus = { list: '200', get: '200', update: '200', create: '201', delete: '204' } as Record<
      string,
      string
    >;
    const tags = { applications: 'Applications', apikeys: 'API keys', webhooks: 'Webhooks' } as Record<string, string>;
    for (const op of OPERATIONS) {
      const found = document.paths[`/v1${op.path}`]?.[op.method.toLowerCase()] as DocOperation['operation'] | undefined;
      expect({
        id: op.id,
        operationId: found?.operationId,
        tags: found?.tags,
        permission: found?.['x-permission'],
        mutates: found?.['x-mutates'] ?? false,
      }).toEqual({
        id: op.id,
        operationId: op.id,
        tags: [tags[op.id.split('.')[0]!]],
        permission: op.id,
        mutates: op.mutates,
      });
      const [, verb = ''] = op.id.split('.');
      // A mutation may be guarded by the policy's two-person rule, so each one documents the 202 too.
      const successes = Object.keys(found!.responses)
        .filter((s) => s.startsWith('2'))
        .sort();
      expect({ id: op.id, successes }).toEqual({
        id: op.id,
        successes: op.mutates ? [successStatus[verb], '202'].sort() : [successStatus[verb]],
      });
      const headers = (found!.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
      expect({ id: op.id, approvalHeaders: headers.filter((name) => String(name).startsWith('X-Approval-')) }).toEqual({
        id: op.id,
        approvalHeaders: op.mutates ? ['X-Approval-Reason', 'X-Approval-Bypass'] : [],
      });
      if (op.mutates) {
        expect(found!.responses['202']).toMatchObject({
          headers: { Location: { $ref: '#/components/headers/Location' } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ApprovalAnswer' } } },
        });
        expect(JSON.stringify(found!.responses['409'])).toContain('Conflict');
        expect(JSON.stringify(found!.responses['503'])).toContain('ApprovalsUnavailable');
      }
      for (const name of op.path.match(/\{\w+\}/g) ?? []) {
        expect(found!.parameters).toContainEqual(
          expect.objectContaining({
            name: name.slice(1, -1),
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
          }),
        );
      }
      const statuses = Object.keys(found!.responses);
      expect(statuses).toEqual(expect.arrayContaining(['400', '401', '403', '429', '502', '503', '504']));
      if (op.mutates) expect(JSON.stringify(found!.responses['503'])).toContain('AuditUnavailable');
    }
  });

  test('when read against the catalogue, then every action under /v1 is there by its method, path, id, summary and permission, and no /v1 path or method is documented that no row declares', () => {
    const documentedV1 = documented.filter((d) => d.path.startsWith('/v1/')).map((d) => d.key);
    const declared = V1_ACTIONS.map(keyOf);
    expect({ missing: declared.filter((k) => !documentedV1.includes(k)) }).toEqual({ missing: [] });
    expect({ undeclared: documentedV1.filter((k) => !declared.includes(k)) }).toEqual({ undeclared: [] });
    expect(documentedV1.length).toBe(declared.length);
    for (const action of V1_ACTIONS) {
      const found = documented.find((d) => d.key === keyOf(action))!.operation;
      expect({
        key: keyOf(action),
        operationId: found.operationId,
        summary: found.summary,
        permission: found['x-permission'],
        mutates: found['x-mutates'] ?? false,
        body: found.requestBody !== undefined,
        query: (found.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      }).toEqual({
        key: keyOf(action),
        operationId: action.id,
        summary: action.summary,
        permission: action.permission ?? undefined,
        mutates: action.mutates,
        body: action.body !== undefined,
        query: Object.keys((action.query as unknown as { shape?: Json } | undefined)?.shape ?? {}),
      });
    }
    // The check above is not vacuous: a row the document lost, or a path it invented, is found.
    const lost = structuredClone(document);
    delete lost.paths['/v1/ownership/unowned'];
    lost.paths['/v1/approvals']!.put = {};
    const keys = operationsOf(lost).map((d) => d.key);
    expect(declared.filter((k) => !keys.includes(k))).toEqual(['GET /v1/ownership/unowned']);
    expect(keys.filter((k) => k.startsWith('PUT /v1/') && !declared.includes(k))).toEqual(['PUT /v1/approvals']);
  });

  test('when read for the public endpoints, then each is there without security, the rest with bearer security, and nothing else is documented', () => {
    const declared = V1_ACTIONS.map(keyOf);
    expect(documented.map((d) => d.key).sort()).toEqual([...declared, ...Object.keys(PUBLIC_ENDPOINTS)].sort());
    for (const { key, operation } of documented) {
      if (PUBLIC_ENDPOINTS[key]) expect({ key, id: operation.operationId }).toEqual({ key, id: PUBLIC_ENDPOINTS[key] });
      expect({ key, security: operation.security }).toEqual({ key, security: PUBLIC.has(key) ? [] : undefined });
    }
    // A bearer token, or a browser session's cookie together with the CSRF header (issue 24: /docs says both).
    expect(document.security).toEqual([{ bearerAuth: [] }, { browserSession: [], csrfHeader: [] }]);
    expect(document.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      browserSession: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'kgw-session' }),
      csrfHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-Requested-With' }),
    });
    expect(document.info.description).toContain('X-Requested-With: kloudless-gateway');
    const events = documented.find((d) => d.key === 'GET /v1/audit/events')!.operation;
    expect(Object.keys(events.responses['200']!.content as Json)).toEqual([
      'application/json',
      'text/csv',
      'application/x-ndjson',
    ]);
  });

  test('when its path templates are read, then every {parameter} is declared in the path and every path parameter is in the template', () => {
    for (const { key, path: at, operation } of documented) {
      const inTemplate = (at.match(/\{\w+\}/g) ?? []).map((n) => n.slice(1, -1)).sort();
      const declared = (operation.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      expect({ key, declared }).toEqual({ key, declared: inTemplate });
    }
    const ids = documented.map((d) => d.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('when the error envelope is read, then its codes are exactly the gateway’s, and every refusal names only codes of its own status', () => {
    const envelope = document.components.schemas!.ErrorEnvelope as {
      properties: { error: { properties: { code: { enum: string[] } } } };
    };
    expect(envelope.properties.error.properties.code.enum).toEqual(Object.keys(ERROR_CODES));
    // Every use of a refusal response, as [status, name]: a response named for its codes must sit under their status.
    const uses = documented.flatMap(({ operation }) =>
      Object.entries(operation.responses).map(([status, r]) => [
        status,
        String(r.$ref ?? '')
          .split('/')
          .pop(),
      ]),
    );
    for (const [name, response] of Object.entries(document.components.responses!)) {
      const narrowed = (response as { content: { 'application/json': { schema: Json } } }).content['application/json']
        .schema;
      const codes = [...JSON.stringify(narrowed).matchAll(/"enum":\[([^\]]*)\]/g)].flatMap(
        ([, list]) => JSON.parse(`[${list}]`) as (keyof typeof ERROR_CODES)[],
      );
      const statuses = new Set([
        ...codes.map((c) => String(ERROR_CODES[c].status)),
        ...uses.filter(([, used]) => used === name).map(([status]) => status),
      ]);
      expect({ name, statuses: [...statuses] }).toEqual({ name, statuses: [expect.any(String)] });
    }
  });

  test('when an input field of the catalogue is documented, then it has a description (FIELD_DOCS covers every field)', () => {
    for (const op of documented.filter((d) => d.operation['x-permission'] === d.operation.operationId)) {
      const body = op.operation.requestBody?.content['application/json'] as
        { schema: { properties: Record<string, Json> } } | undefined;
      const fields: Json[] = [
        ...(op.operation.parameters ?? []).filter((p) => p.in === 'query'),
        ...Object.entries(body?.schema.properties ?? {}).map(([name, p]) => ({ ...p, name })),
      ];
      for (const field of fields)
        expect({
          op: op.key,
          field: field.name,
          documented: Boolean(field.description) && Object.hasOwn(FIELD_DOCS, field.name as string),
        }).toEqual({ op: op.key, field: field.name, documented: true });
    }
  });

  test('when a gateway action’s input is documented, then every parameter and body field (nested ones too) has its description from the catalogue’s schema', () => {
    const undocumented: string[] = [];
    const walk = (where: string, schema: Json) => {
      for (const [name, field] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
        if (!field.description) undocumented.push(`${where}.${name}`);
        walk(`${where}.${name}`, field);
      }
      if (schema.items) walk(`${where}[]`, schema.items as Json);
    };
    for (const action of V1_ACTIONS.filter((a) => !a.operation)) {
      const { operation } = documented.find((d) => d.key === keyOf(action))!;
      for (const p of operation.parameters ?? [])
        if (!p.description) undocumented.push(`${action.id} ${String(p.in)} ${String(p.name)}`);
      const body = operation.requestBody?.content['application/json'] as { schema: Json } | undefined;
      if (body) walk(`${action.id} body`, body.schema);
    }
    expect(undocumented).toEqual([]);
  });

  test('when a gateway action’s refusals are read, then each documents what the one pipeline may answer it: 401s, 429, 400 validation_failed, 403 with a permission, the body reader’s 400/413/415 with a body, 503 audit_unavailable for a mutation', () => {
    const codesAt = (operation: DocOperation['operation'], status: string) => {
      const name = String(operation.responses[status]?.$ref ?? '')
        .split('/')
        .pop()!;
      const response = document.components.responses?.[name] as Json | undefined;
      return [
        ...JSON.stringify(response ?? operation.responses[status] ?? {}).matchAll(/"enum":\[([^\]]*)\]/g),
      ].flatMap(([, list]) => JSON.parse(`[${list}]`) as string[]);
    };
    for (const action of V1_ACTIONS.filter((a) => !a.operation)) {
      const { operation } = documented.find((d) => d.key === keyOf(action))!;
      const expected: [string, string][] = [
        ['401', 'unauthenticated'],
        ['401', 'invalid_token'],
        ['429', 'rate_limited'],
        ['400', 'validation_failed'],
        ...(action.permission ? ([['403', 'forbidden']] as [string, string][]) : []),
        ...(action.body
          ? ([
              ['400', 'invalid_json'],
              ['413', 'payload_too_large'],
              ['415', 'unsupported_media_type'],
            ] as [string, string][])
          : []),
        ...(action.mutates ? ([['503', 'audit_unavailable']] as [string, string][]) : []),
      ];
      const missing = expected.filter(([status, code]) => !codesAt(operation, status).includes(code));
      expect({ id: action.id, missing }).toEqual({ id: action.id, missing: [] });
    }
  });
});

describe('the documented operations against the running gateway', () => {
  let h: Harness;
  let admin: string;
  const ids: Record<string, string> = { sequence: '1' };
  /** Where a create's answer puts the id later operations need. */
  const CREATED: Record<string, [param: string, field: string]> = {
    'applications.create': ['application_id', 'id'],
    'apikeys.create': ['apikey_key', 'key'],
    'webhooks.create': ['webhook_id', 'id'],
  };

  /** Path parameters for one operation only: approve, deny and cancel each need a pending request of their own. */
  const idsFor: Record<string, Record<string, string>> = {};
  /** Another admin: the second person of the two-person rule, and the requester of what the test's admin approves or denies. */
  const secondAdmin = tokenFor('admin', 'openapi-second-admin');

  beforeAll(async () => {
    h = await startHarness();
    admin = tokenFor('admin');
    const ask = async (requester: string) => {
      const app = await h
        .api()
        .post('/v1/applications')
        .set('Authorization', `Bearer ${admin}`)
        .send({ name: 'To be deleted' })
        .expect(201);
      return (
        await h.api().delete(`/v1/applications/${app.body.id}`).set('Authorization', `Bearer ${requester}`).expect(202)
      ).body.approval.id as string;
    };
    idsFor['POST /v1/approvals/{id}/approve'] = { id: await ask(secondAdmin) };
    idsFor['POST /v1/approvals/{id}/deny'] = { id: await ask(secondAdmin) };
    idsFor['POST /v1/approvals/{id}/cancel'] = { id: await ask(admin) };
    ids.id = await ask(secondAdmin);
  }, 60_000);
  afterAll(async () => h?.close());

  const urlOf = (op: DocOperation, query: Record<string, string> = {}) => {
    const values = { ...ids, ...idsFor[op.key] };
    const at = op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
      encodeURIComponent(values[name] ?? `no-${name}-yet`),
    );
    const search = new URLSearchParams(query).toString();
    return search ? `${at}?${search}` : at;
  };
  const call = (op: DocOperation, token: string | undefined, query?: Record<string, string>) => {
    const request = h.api()[op.method as 'get' | 'post' | 'put' | 'patch' | 'delete'](urlOf(op, query));
    if (token) request.set('Authorization', `Bearer ${token}`);
    const example = op.operation.requestBody?.content['application/json']?.example;
    return example === undefined ? request : request.send(example as object);
  };
  const requiredQuery = (op: DocOperation) =>
    Object.fromEntries(
      (op.operation.parameters ?? [])
        .filter((p) => p.in === 'query' && p.required)
        .map((p) => [p.name as string, String(p.example)]),
    );

  /** The status is one the document declares for the operation (not just `default`), and the body fits that response's schema. */
  function expectDocumented(
    op: DocOperation,
    res: { status: number; headers: Record<string, string>; body: unknown; text: string },
  ) {
    const response = resolvedOperation(op).responses[String(res.status)] as
      { content?: Record<string, { schema: unknown }> } | undefined;
    expect({ op: op.key, status: res.status, declared: Boolean(response) }).toEqual({
      op: op.key,
      status: res.status,
      declared: true,
    });
    if (!response!.content) return expect(res.text).toBe('');
    const mediaType = String(res.headers['content-type']).split(';')[0]!;
    expect({ op: op.key, mediaType, declared: Object.keys(response!.content) }).toEqual({
      op: op.key,
      mediaType,
      declared: expect.arrayContaining([mediaType]),
    });
    if (mediaType !== 'application/json') return;
    const check = schemaCheck(response!.content[mediaType]!.schema);
    expect({ op: op.key, status: res.status, errors: check(res.body) ? null : check.errors }).toEqual({
      op: op.key,
      status: res.status,
      errors: null,
    });
  }

  // Creates first (their ids feed the rest), then updates and reads, deletes last and deepest first.
  const RANK: Record<string, number> = { post: 0, patch: 1, put: 1, get: 2, delete: 3 };
  const ordered = [...documented].sort(
    (a, b) => RANK[a.method]! - RANK[b.method]! || (a.method === 'delete' ? b.path.length - a.path.length : 0),
  );
  const find = (key: string) => documented.find((d) => d.key === key)!;
  /** What the operation answers when it runs: its one 2xx besides the two-person rule's 202. */
  const successOf = (op: DocOperation) =>
    Number(Object.keys(op.operation.responses).find((s) => s.startsWith('2') && s !== '202'));

  /** A 202 as documented (Location names the stored request), then a second admin approves it and the gateway runs it. */
  async function approveAsSecondAdmin(
    op: DocOperation,
    asked: { status: number; headers: Record<string, string>; body: { approval: { id: string } }; text: string },
  ) {
    expectDocumented(op, asked);
    const { id } = asked.body.approval;
    expect({
      op: op.key,
      location: asked.headers.location,
      state: (asked.body.approval as { state?: string }).state,
    }).toEqual({ op: op.key, location: `/v1/approvals/${id}`, state: 'pending' });
    const get = find('GET /v1/approvals/{id}');
    const read = await h.api().get(asked.headers.location!).set('Authorization', `Bearer ${admin}`);
    expect(read.status).toBe(200);
    expectDocumented(get, read);

    const approve = find('POST /v1/approvals/{id}/approve');
    const approved = await h
      .api()
      .post(`/v1/approvals/${id}/approve`)
      .set('Authorization', `Bearer ${secondAdmin}`)
      .send({ reason: 'the OpenAPI test checked it' });
    expect({ op: op.key, status: approved.status }).toEqual({ op: op.key, status: 200 });
    expectDocumented(approve, approved);
    expect({ op: op.key, state: approved.body.approval.state, upstream: approved.body.upstream?.status }).toEqual({
      op: op.key,
      state: 'executed',
      upstream: successOf(op),
    });
    const after = await h.api().get(asked.headers.location!).set('Authorization', `Bearer ${admin}`);
    expect([after.status, after.body.approval.state, after.body.approval.result]).toEqual([
      200,
      'executed',
      { status: successOf(op), error: null },
    ]);
    expectDocumented(get, after);
  }

  test('when every documented operation is called as an admin with the documented examples, then each answers its documented success (a guarded one 202, then runs once approved by a second admin), in a declared media type and schema', async () => {
    const guarded = h.deps.policy().approvals;
    const approvedThrough: string[] = [];
    for (const op of ordered) {
      const res = await call(op, PUBLIC.has(op.key) ? undefined : admin, requiredQuery(op));
      if (op.key === 'GET /openapi.json' && res.status === 404) throw new Error(MOUNT_HINT);
      if (guarded.has(op.operation.operationId)) {
        expect({ op: op.key, status: res.status }).toEqual({ op: op.key, status: 202 });
        await approveAsSecondAdmin(op, res);
        approvedThrough.push(op.operation.operationId);
        continue;
      }
      expect({ op: op.key, status: res.status }).toEqual({ op: op.key, status: successOf(op) });
      expectDocumented(op, res);
      const created = CREATED[op.operation.operationId];
      if (created) ids[created[0]] = (res.body as Record<string, string>)[created[1]]!;
    }
    // The built-in policy guards the application delete, so the approval flow above really ran.
    expect(approvedThrough).toEqual(['applications.delete']);
  });

  test('when the two-person rule refuses (a second request, self-approval, a deny without a reason, someone else cancelling, an unknown id, break-glass without the permission, a bad reason header), then each answer is a documented one', async () => {
    const del = find('DELETE /v1/applications/{application_id}');
    const approve = find('POST /v1/approvals/{id}/approve');
    const deny = find('POST /v1/approvals/{id}/deny');
    const cancel = find('POST /v1/approvals/{id}/cancel');
    const get = find('GET /v1/approvals/{id}');
    const as = (token: string) => ({ Authorization: `Bearer ${token}` });
    const app = (await h.api().post('/v1/applications').set(as(admin)).send({ name: 'Refusals' }).expect(201)).body
      .id as string;

    const asked = await h
      .api()
      .delete(`/v1/applications/${app}`)
      .set(as(admin))
      .set('X-Approval-Reason', 'the OpenAPI test');
    expect(asked.status).toBe(202);
    expectDocumented(del, asked);
    const id = asked.body.approval.id as string;
    expect(asked.body.approval.reason).toBe('the OpenAPI test');

    const outcomes: [DocOperation, Awaited<ReturnType<typeof call>>, number, string, string | undefined][] = [
      [del, await h.api().delete(`/v1/applications/${app}`).set(as(secondAdmin)), 409, 'conflict', 'approval_pending'],
      [
        approve,
        await h.api().post(`/v1/approvals/${id}/approve`).set(as(admin)).send({}),
        403,
        'forbidden',
        'self_approval',
      ],
      [
        deny,
        await h.api().post(`/v1/approvals/${id}/deny`).set(as(secondAdmin)).send({}),
        400,
        'validation_failed',
        undefined,
      ],
      [
        deny,
        await h
          .api()
          .post(`/v1/approvals/${id}/deny`)
          .set(as(secondAdmin))
          .set('Content-Type', 'application/json')
          .send('{"reason":'),
        400,
        'invalid_json',
        undefined,
      ],
      [
        cancel,
        await h.api().post(`/v1/approvals/${id}/cancel`).set(as(secondAdmin)),
        403,
        'forbidden',
        'not_requester',
      ],
      [
        get,
        await h.api().get('/v1/approvals/00000000-0000-4000-8000-000000000000').set(as(admin)),
        404,
        'not_found',
        undefined,
      ],
      [
        get,
        await h
          .api()
          .get(`/v1/approvals/${id}`)
          .set(as(tokenFor('viewer', 'openapi-stranger'))),
        404,
        'not_found',
        undefined,
      ],
      [
        del,
        await h.api().delete(`/v1/applications/${app}`).set(as(admin)).set('X-Approval-Bypass', 'no such permission'),
        403,
        'forbidden',
        'no_role_grants_permission',
      ],
      [
        del,
        await h.api().delete(`/v1/applications/${app}`).set(as(admin)).set('X-Approval-Reason', 'x'.repeat(501)),
        400,
        'validation_failed',
        undefined,
      ],
    ];
    for (const [op, res, status, code, reason] of outcomes) {
      expect({
        op: op.key,
        status: res.status,
        code: res.body?.error?.code,
        reason: reason && res.body?.error?.details?.[0]?.reason,
      }).toEqual({ op: op.key, status, code, reason });
      expectDocumented(op, res);
    }
    expect(outcomes[0]![1].body.error.details[0].approval_id).toBe(id);

    const denied = await h.api().post(`/v1/approvals/${id}/deny`).set(as(secondAdmin)).send({ reason: 'not today' });
    expect([denied.status, denied.body.approval.state, denied.body.approval.end_reason]).toEqual([
      200,
      'denied',
      'not today',
    ]);
    expectDocumented(deny, denied);
    const late = await h.api().post(`/v1/approvals/${id}/approve`).set(as(secondAdmin)).send({});
    expect([late.status, late.body.error?.code, late.body.error?.details?.[0]?.reason]).toEqual([
      409,
      'conflict',
      'approval_not_pending',
    ]);
    expectDocumented(approve, late);
  });

  test('when the trail of an approval is asked for by approval_id, then its events are there, of kind approval with the documented approval_id field', async () => {
    const list = find('GET /v1/audit/events');
    const { id } = idsFor['POST /v1/approvals/{id}/approve']!;
    const res = await h
      .api()
      .get('/v1/audit/events')
      .query({ approval_id: id!, order: 'asc' })
      .set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    expectDocumented(list, res);
    const events = res.body.events as { kind: string; operation: string; approval_id: string }[];
    expect(events.map((e) => [e.kind, e.operation])).toEqual([
      ['approval', 'approval.request'],
      ['approval', 'approval.approve'],
      ['mutation', 'applications.delete'],
    ]);
    expect(events.map((e) => e.approval_id)).toEqual(events.map(() => id));
  });

  test('when every secured operation is called without a token, then it answers the documented 401 in the envelope', async () => {
    for (const op of documented.filter((d) => !PUBLIC.has(d.key))) {
      const res = await call(op, undefined);
      expect({ op: op.key, status: res.status, code: res.body?.error?.code }).toEqual({
        op: op.key,
        status: 401,
        code: 'unauthenticated',
      });
      expectDocumented(op, res);
    }
  });

  test('when a documented query parameter is sent with its example (or first allowed) value, then the gateway accepts it', async () => {
    ids.application_id = (
      await h
        .api()
        .post('/v1/applications')
        .set('Authorization', `Bearer ${admin}`)
        .send({ name: 'Query parameters' })
        .expect(201)
    ).body.id;
    for (const op of documented.filter((d) => d.method === 'get')) {
      for (const p of (op.operation.parameters ?? []).filter((p) => p.in === 'query')) {
        const schema = p.schema as { enum?: string[]; type?: string; minimum?: number };
        const value = p.example ?? schema.enum?.[0] ?? (schema.type === 'integer' ? (schema.minimum ?? 1) : undefined);
        if (value === undefined) continue; // cursor, checkpoint: only values the gateway issued mean anything
        const res = await call(op, admin, { ...requiredQuery(op), [p.name as string]: String(value) });
        expect({ op: op.key, parameter: p.name, status: res.status }).toEqual({
          op: op.key,
          parameter: p.name,
          status: 200,
        });
      }
    }
  });

  test('when a team-scoped caller creates with the documented X-Team header and then names another team’s application, then both answers are the documented ones', async () => {
    const create = documented.find((d) => d.key === 'POST /v1/applications')!;
    const header = (create.operation.parameters ?? []).find((p) => p.in === 'header' && p.name === 'X-Team')!;
    const editor = tokenFor('editor', 'openapi-editor', ['openapi-a', 'openapi-b']);
    const created = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${editor}`)
      .set('X-Team', 'openapi-a')
      .send({ name: 'Team app' });
    expect(created.status).toBe(201);
    expectDocumented(create, created);
    expect(new RegExp(String((header.schema as Json).pattern)).test('openapi-a')).toBe(true);

    const get = documented.find((d) => d.key === 'GET /v1/applications/{application_id}')!;
    const outsider = await h
      .api()
      .get(`/v1/applications/${created.body.id}`)
      .set('Authorization', `Bearer ${tokenFor('editor', 'openapi-outsider', ['openapi-c'])}`);
    expect([outsider.status, outsider.body.error?.code]).toEqual([404, 'not_found']);
    expectDocumented(get, outsider);
    const unnamed = await h
      .api()
      .post('/v1/applications')
      .set('Authorization', `Bearer ${editor}`)
      .send({ name: 'Whose?' });
    expect([unnamed.status, unnamed.body.error?.details?.[0]?.reason]).toEqual([400, 'team_required']);
    expectDocumented(create, unnamed);
  });

  test('when audit events are asked for as CSV and as NDJSON, then each comes in its documented media type', async () => {
    const events = documented.find((d) => d.key === 'GET /v1/audit/events')!;
    for (const [accept, type] of [
      ['text/csv', 'text/csv'],
      ['application/x-ndjson', 'application/x-ndjson'],
    ]) {
      const res = await h
        .api()
        .get('/v1/audit/events')
        .set('Authorization', `Bearer ${admin}`)
        .set('Accept', accept!)
        .buffer(true)
        .parse((r, done) => {
          let text = '';
          r.on('data', (chunk: Buffer) => (text += chunk.toString()));
          r.on('end', () => done(null, text));
        });
      expect(res.status).toBe(200);
      expect(String(res.headers['content-type']).split(';')[0]).toBe(type);
      expect(Object.keys(events.operation.responses['200']!.content as Json)).toContain(type);
    }
  });

  test('when GET /openapi.json is called, then it is buildOpenApiDocument()’s document, as JSON, revalidated on every use', async () => {
    const res = await h.api().get('/openapi.json');
    if (res.status === 404) throw new Error(MOUNT_HINT);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toEqual(documentJson);
  });

  test('when GET /docs is called, then it is an HTML page with no inline script whose assets the gateway serves with the right types', async () => {
    const page = await h.api().get('/docs');
    if (page.status === 404) throw new Error(MOUNT_HINT);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts)
      expect({ src: /\bsrc="[^"]+"/.test(attributes!), body: body!.trim() }).toEqual({ src: true, body: '' });
    const assets = [...page.text.matchAll(/<(script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map(([, tag, url]) => ({
      tag,
      url: new URL(url!, `${h.gatewayUrl}/docs`),
    }));
    for (const { tag, url } of assets.filter((a) => a.url.pathname.startsWith('/docs/'))) {
      const res = await h.api().get(url.pathname);
      const expected =
        tag === 'script'
          ? /^(text|application)\/javascript/
          : url.pathname.endsWith('.css')
            ? /^text\/css/
            : /^image\/png/;
      expect({ url: url.pathname, status: res.status, type: res.headers['content-type'] }).toEqual({
        url: url.pathname,
        status: 200,
        type: expect.stringMatching(expected),
      });
    }
    expect(assets.filter((a) => a.tag === 'script').map((a) => a.url.pathname)).toEqual([
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/assets/docs.js',
    ]);
    expect(assets.filter((a) => a.url.origin !== h.gatewayUrl).map((a) => a.url.href)).toEqual([]); // nothing from a CDN

    const trailing = await h.api().get('/docs/');
    expect([trailing.status, trailing.headers.location]).toEqual([301, '../docs']);
    for (const probe of ['/docs/assets/package.json', '/docs/assets/..%2Fpackage.json', '/docs/assets/index.html'])
      expect((await h.api().get(probe)).status).toBe(404);
  });

  test('when all of the above ran, then no token or key leaked into a log line or a response', () => {
    h.assertNoLeaks();
  });
});

const SCREENSHOT = screenshotPath('api-reference.png');

describeInBrowser("the API reference's browser check")('the reference page in a browser', () => {
  let h: Harness;
  let browser: Browser;

  beforeAll(async () => {
    h = await startHarness();
    browser = await launchChromium('the reference page');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  test('when /docs is opened, then every operation is listed, a token pasted into Authorize calls GET /v1/me from the page, and nothing broke the policy', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(10_000);
    const problems: string[] = [];
    // Injected by the browser itself, so the page's own policy cannot stop it from reporting violations of it.
    await context.addInitScript(
      'document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`))',
    );
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning')
        problems.push(`console ${msg.type()}: ${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
    page.on('response', (res) => {
      if (res.status() >= 400) problems.push(`${res.status()} for ${res.url()}`);
      if (!res.url().startsWith(h.gatewayUrl)) problems.push(`left the gateway: ${res.url()}`);
    });

    const response = await page.goto(`${h.gatewayUrl}/docs`);
    if (response?.status() === 404) throw new Error(MOUNT_HINT);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page
      .locator('.opblock')
      .nth(documented.length - 1)
      .waitFor();
    const shown = await page.locator('.opblock-summary-operation-id').allTextContents();
    expect(shown.map((s) => s.trim()).sort()).toEqual(documented.map((d) => d.operation.operationId).sort());
    await expect(page.locator('.info .title').textContent()).resolves.toContain('Kloudless Management Gateway');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Swagger UI shows the curl line with the token once a call is made: the picture is taken before.
    await page
      .getByRole('button', { name: /Authorize/ })
      .first()
      .click();
    await page.locator('#auth-bearer-value').fill(tokenFor('viewer', 'reader-in-the-browser'));
    await page.locator('form', { hasText: 'bearerAuth' }).getByRole('button', { name: 'Apply credentials' }).click();
    await page.locator('.auth-btn-wrapper').getByRole('button', { name: 'Close' }).first().click();
    // Swagger UI's element ids escape the operation id's dot: found by the id it shows instead.
    const me = page
      .locator('.opblock')
      .filter({ has: page.locator('.opblock-summary-operation-id', { hasText: /^\s*me\.read\s*$/ }) });
    await me.locator('.opblock-summary').click();
    await me.getByRole('button', { name: 'Try it out' }).click();
    await me.getByRole('button', { name: 'Execute' }).click();
    const answered = me.locator('.live-responses-table tbody tr.response');
    await answered.waitFor();
    await expect(answered.locator('.response-col_status').textContent()).resolves.toBe('200');
    await expect(answered.locator('.response-col_description').textContent()).resolves.toContain(
      '"sub": "reader-in-the-browser"',
    );

    await context.close();
    expect(problems).toEqual([]);
  }, 60_000);
});
