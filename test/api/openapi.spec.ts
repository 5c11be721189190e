// The OpenAPI document the API publishes at /api/docs-json: structurally valid (every `$ref` resolves,
// every path template parameter is declared, operationIds are unique), complete (every route a Nest
// controller serves is in it, and nothing that is not served), and derived from what validates and guards
// each request: parameters and bodies from the DTO classes (spot-checked), raw uploads from
// LARGE_BODY_ROUTES, and a bearer token required exactly where an anonymous request is answered 401.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  PathItemObject,
  RequestBodyObject,
  SchemaObject,
} from '@nestjs/swagger';
import { MAX_RECORD_KEYS } from '@custos/domain';
import { ADDRESS_PATTERN } from '../../apps/api/src/core/address';
import { BEARER_SCHEME } from '../../apps/api/src/openapi';
import { LARGE_BODY_ROUTES } from '../../apps/api/src/security/body-limits';
import { TestApi } from './harness';
import { nestRoutes } from './routes';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const PARAMETER_LOCATIONS = ['path', 'query', 'header', 'cookie'];
const SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'];
const BYTES32_PATTERN = '^0x[0-9a-fA-F]{64}$';
const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

interface Operation {
  /** `GET /records/{id}`, as the document spells it. */
  key: string;
  path: string;
  method: string;
  operation: OperationObject;
}

function operationsOf(doc: OpenAPIObject): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]: [string, PathItemObject]) =>
    HTTP_METHODS.filter((m) => item[m]).map((method) => ({
      key: `${method.toUpperCase()} ${path}`,
      path,
      method,
      operation: item[method]!,
    })),
  );
}

/** The names of a path template's parameters: `/a/{id}/b/{messageId}` → id, messageId. */
const templateNames = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => name!);

/** `/records/{id}` → `/records/:id`, as Fastify and Nest spell routes. */
const routeKey = (key: string) => key.replace(/\{([^}]+)\}/g, ':$1');

/** Every `$ref` in the document, with where it is. */
function refsOf(value: unknown, at: string, found: { ref: string; at: string }[] = []) {
  if (Array.isArray(value)) value.forEach((v, i) => refsOf(v, `${at}/${i}`, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref') found.push({ ref: String(v), at });
      else refsOf(v, `${at}/${key}`, found);
    }
  }
  return found;
}

/** What a local JSON pointer (`#/components/schemas/X`) points at, or undefined. */
function resolve(doc: OpenAPIObject, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let target: unknown = doc;
  for (const token of ref.slice(2).split('/')) {
    const key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
    if (target === null || typeof target !== 'object' || !Object.hasOwn(target, key)) return undefined;
    target = (target as Record<string, unknown>)[key];
  }
  return target;
}

/** What is wrong with a schema and the schemas inside it (refs are checked separately). */
function schemaProblems(schema: unknown, at: string): string[] {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return [`${at}: not a schema`];
  const s = schema as SchemaObject & { $ref?: string };
  if (s.$ref !== undefined) return [];
  const problems: string[] = [];
  if (s.type !== undefined && !SCHEMA_TYPES.includes(String(s.type))) problems.push(`${at}: type ${s.type}`);
  if (s.pattern !== undefined) {
    try {
      new RegExp(s.pattern);
    } catch {
      problems.push(`${at}: pattern ${s.pattern} is not a regular expression`);
    }
  }
  for (const name of s.required ?? []) {
    if (!s.properties || !Object.hasOwn(s.properties, name)) {
      problems.push(`${at}: requires ${name}, which it does not describe`);
    }
  }
  for (const [name, property] of Object.entries(s.properties ?? {})) {
    problems.push(...schemaProblems(property, `${at}/properties/${name}`));
  }
  if (s.type === 'array' && s.items === undefined) problems.push(`${at}: an array without items`);
  if (s.items !== undefined) problems.push(...schemaProblems(s.items, `${at}/items`));
  if (typeof s.additionalProperties === 'object') {
    problems.push(...schemaProblems(s.additionalProperties, `${at}/additionalProperties`));
  }
  return problems;
}

/** What is wrong with one operation, as OpenAPI 3.0 defines it. */
function operationProblems(doc: OpenAPIObject, { key, path, operation }: Operation): string[] {
  const problems: string[] = [];
  if (!operation.operationId) problems.push(`${key}: no operationId`);
  if (Object.keys(operation.responses ?? {}).length === 0) problems.push(`${key}: no responses`);
  const parameters = (operation.parameters ?? []) as ParameterObject[];
  const seen = new Set<string>();
  for (const p of parameters) {
    const where = `${key} parameter ${p.in}:${p.name}`;
    if (!p.name || !PARAMETER_LOCATIONS.includes(p.in)) problems.push(`${where}: no name or location`);
    if (seen.has(`${p.in}:${p.name}`)) problems.push(`${where}: declared twice`);
    seen.add(`${p.in}:${p.name}`);
    if (p.schema === undefined) problems.push(`${where}: no schema`);
    else problems.push(...schemaProblems(p.schema, where));
    if (p.in === 'path' && p.required !== true) problems.push(`${where}: a path parameter must be required`);
    if (p.in === 'path' && !templateNames(path).includes(p.name)) {
      problems.push(`${where}: not in the path template`);
    }
  }
  for (const name of templateNames(path)) {
    if (!parameters.some((p) => p.in === 'path' && p.name === name)) {
      problems.push(`${key}: path parameter ${name} is not declared`);
    }
  }
  const body = operation.requestBody as RequestBodyObject | undefined;
  if (body !== undefined) {
    const media = Object.entries(body.content ?? {});
    if (media.length === 0) problems.push(`${key}: a request body with no media type`);
    for (const [type, { schema }] of media) {
      if (schema === undefined) problems.push(`${key} body ${type}: no schema`);
      else problems.push(...schemaProblems(schema, `${key} body ${type}`));
    }
  }
  for (const requirement of operation.security ?? []) {
    for (const scheme of Object.keys(requirement)) {
      if (!doc.components?.securitySchemes?.[scheme])
        problems.push(`${key}: unknown security scheme ${scheme}`);
    }
  }
  return problems;
}

describe('the OpenAPI document', () => {
  let api: TestApi;
  let doc: OpenAPIObject;
  let operations: Operation[];

  const operation = (key: string): OperationObject => {
    const found = operations.find((o) => o.key === key);
    assert.ok(found, `${key} is not in the document`);
    return found.operation;
  };
  const parameters = (key: string) => (operation(key).parameters ?? []) as ParameterObject[];
  const requestBody = (key: string) => operation(key).requestBody as RequestBodyObject | undefined;
  const schema = (name: string) => doc.components?.schemas?.[name] as SchemaObject;

  before(async () => {
    api = await TestApi.start();
    const res = await api.get('/api/docs-json');
    assert.equal(res.statusCode, 200);
    doc = res.json<OpenAPIObject>();
    operations = operationsOf(doc);
  });
  after(() => api.close());

  test('is OpenAPI 3.0 with a title and a version', () => {
    assert.match(doc.openapi, /^3\.0\.\d+$/);
    assert.equal(doc.info.title, 'Custos API');
    assert.ok(doc.info.version, 'no version');
  });

  test('every $ref resolves', () => {
    const dangling = refsOf(doc, '#')
      .filter(({ ref }) => resolve(doc, ref) === undefined)
      .map(({ ref, at }) => `${at}: ${ref}`);
    assert.deepEqual(dangling, []);
  });

  test('every operation is well formed: path parameters declared, operationIds unique, schemas sound', () => {
    const problems = operations.flatMap((o) => operationProblems(doc, o));
    for (const [name, s] of Object.entries(doc.components?.schemas ?? {})) {
      problems.push(...schemaProblems(s, `#/components/schemas/${name}`));
    }
    const ids = operations.map((o) => o.operation.operationId);
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (repeated.length > 0) problems.push(`operationIds used twice: ${repeated.join(', ')}`);
    assert.deepEqual(problems, []);
  });

  test('lists every route Nest serves, and only routes that are served', () => {
    const documented = new Set(operations.map((o) => routeKey(o.key)));
    const missing = nestRoutes(api.app, api.routes)
      .map((r) => r.key)
      .filter((key) => !documented.has(key));
    assert.deepEqual(missing, [], 'routes the document leaves out');
    const served = new Set(api.routes.map((r) => r.key));
    assert.deepEqual(
      [...documented].filter((key) => !served.has(key)),
      [],
      'operations no route serves',
    );
  });

  test('query parameters come from the @Query() DTO: GET /records takes patient, cursor and limit', () => {
    assert.deepEqual(parameters('GET /records'), [
      {
        name: 'patient',
        in: 'query',
        required: false,
        schema: { type: 'string', pattern: ADDRESS_PATTERN.source },
      },
      { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 500 } },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200 } },
    ]);
    const replay = parameters('GET /audit/replay');
    assert.deepEqual(
      replay.map((p) => `${p.in}:${p.name}:${p.required}`),
      ['query:asOf:true', 'query:patient:true'],
      'GET /audit/replay requires both',
    );
  });

  test('path parameters come from the @Param() DTO, in the order of the template', () => {
    assert.deepEqual(parameters('GET /records/{id}'), [
      { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: BYTES32_PATTERN } },
    ]);
    const read = parameters('POST /conversations/{id}/messages/{messageId}/read');
    assert.deepEqual(
      read.map((p) => `${p.in}:${p.name}`),
      ['path:id', 'path:messageId'],
    );
    assert.equal((read[0]!.schema as SchemaObject).pattern, UUID_PATTERN);
    const messages = parameters('GET /conversations/{id}/messages');
    assert.deepEqual(
      messages.map((p) => `${p.in}:${p.name}`),
      ['path:id', 'query:order', 'query:cursor', 'query:limit'],
    );
    assert.deepEqual((messages[1]!.schema as SchemaObject).enum, ['asc', 'desc']);
  });

  test('JSON bodies point to the @Body() DTO, nested arrays and maps included', () => {
    assert.deepEqual(requestBody('POST /records')?.content, {
      'application/json': { schema: { $ref: '#/components/schemas/RecordSubmissionBody' } },
    });
    for (const name of ['RecordSubmissionBody', 'RecordKeysBody']) {
      assert.deepEqual(schema(name).properties?.keys, {
        type: 'array',
        items: { $ref: '#/components/schemas/WrappedKeyBody' },
        minItems: 1,
        maxItems: MAX_RECORD_KEYS,
        uniqueItems: true,
      });
    }
    assert.deepEqual((schema('SignedGrantBatchBody').properties?.items as SchemaObject).items, {
      $ref: '#/components/schemas/GrantItemBody',
    });
    const wrappedKeys = schema('SendMessageBody').properties?.wrappedKeys as SchemaObject;
    assert.equal(wrappedKeys.type, 'object');
    assert.deepEqual(wrappedKeys.additionalProperties, {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]+$',
      maxLength: 683,
    });
  });

  test('raw uploads (LARGE_BODY_ROUTES) take their media type only, as binary', () => {
    assert.ok(LARGE_BODY_ROUTES.some((r) => r.route === 'POST /records/blobs'));
    for (const { route, mediaType } of LARGE_BODY_ROUTES) {
      const op = operations.find((o) => routeKey(o.key) === route);
      assert.ok(op, `${route} is not in the document`);
      const body = op.operation.requestBody as RequestBodyObject | undefined;
      assert.ok(body, `${route} declares no request body`);
      assert.deepEqual(Object.keys(body.content), [mediaType]);
      assert.deepEqual(body.content[mediaType]!.schema, {
        type: 'string',
        format: 'binary',
      });
    }
  });

  test('asks for a bearer token exactly where an anonymous request is answered 401', async () => {
    assert.deepEqual(doc.components?.securitySchemes?.[BEARER_SCHEME], {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    const mismatches: string[] = [];
    for (const { key, method, path, operation: op } of operations) {
      const bearer = (op.security ?? []).some((requirement) => BEARER_SCHEME in requirement);
      // The guards (and the raw upload's onRequest hook) answer before any parameter is validated.
      const res = await api.inject({
        method: method.toUpperCase() as 'GET',
        url: path.replace(/\{[^}]+\}/g, '0'),
      });
      if ((res.statusCode === 401) !== bearer) {
        mismatches.push(
          `${key}: anonymous ${res.statusCode}, ${bearer ? 'bearer required' : 'public'} in the document`,
        );
      }
    }
    assert.deepEqual(mismatches, []);
    assert.ok(operation('GET /records').security, 'GET /records asks for no token');
    assert.equal(operation('GET /health').security, undefined, 'GET /health asks for a token');
  });
});
