// Issue 8, part 4 (hostile input): for every operation of the OpenAPI document the API publishes,
// fast-check generates requests — path params, query strings, JSON and raw bodies, content types and
// headers, some valid-looking and some hostile — and sends them one at a time to the real API (SQLite
// stores, a real anvil chain with the contract deployed). Every answer must be below 500, and a 4xx
// must leave the event store as it found it but for AccessAudited denials (refusing a caller is
// audited by design).
//
// Seeds are fixed; HOSTILE_INPUT_SEED changes the base seed, HOSTILE_INPUT_RUNS the requests per
// operation and HOSTILE_INPUT_ROUTE (e.g. `POST /consent-requests`) runs one operation only. A failure
// names the operation, its seed and the shrunk request; the same base seed generates the same requests
// again (each operation's seed derives from it and the operation alone).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { type AccessAuditedData, mirrorStream, type RecordedEvent, type Role } from '@custos/domain';
import { DAY, TestApi, until, type User } from '../api/harness';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from '../chain/anvil';
import { envelopeFor, startConversation } from '../messaging/request-samples';

const BASE_SEED = Number(process.env.HOSTILE_INPUT_SEED ?? 8_042);
const RUNS_PER_OPERATION = Number(process.env.HOSTILE_INPUT_RUNS ?? 100);
const ONLY_ROUTE = process.env.HOSTILE_INPUT_ROUTE;

// ------------------------------------------------------------------------------------ the document

/** The subset of JSON Schema the API's DTOs produce (class-validator-jsonschema). */
interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  /** A map's values (SendMessageBody.wrappedKeys). */
  additionalProperties?: Schema | boolean;
  minProperties?: number;
  maxProperties?: number;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Schema;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }
    >
  >;
  components?: { schemas?: Record<string, Schema> };
}

/** One path and method of the document, with the schemas of what it takes. */
interface Operation {
  /** `POST /consent-requests/{id}/decline`, as the document spells it. */
  key: string;
  method: string;
  path: string;
  /** Each path parameter's schema. */
  params: Record<string, Schema>;
  /** The query parameters, as the schema of one object. */
  query?: Schema;
  /** The JSON body's schema. */
  body?: Schema;
  /** Takes raw bytes (application/octet-stream) rather than JSON. */
  binary: boolean;
}

/** Each operation with what it takes, as the document declares it (test/api/openapi.spec.ts checks that). */
function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const key = `${method.toUpperCase()} ${path}`;
      const parameters = op.parameters ?? [];
      const params = Object.fromEntries(
        parameters.filter((p) => p.in === 'path').map((p) => [p.name, p.schema]),
      );
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        assert.ok(params[name!], `${key}: path parameter ${name} is not declared`);
      }
      const query = parameters.filter((p) => p.in === 'query');
      operations.push({
        key,
        method: method.toUpperCase(),
        path,
        params,
        query:
          query.length === 0
            ? undefined
            : {
                type: 'object',
                properties: Object.fromEntries(query.map((p) => [p.name, p.schema])),
                required: query.filter((p) => p.required).map((p) => p.name),
              },
        body: op.requestBody?.content['application/json']?.schema,
        binary: op.requestBody?.content['application/octet-stream'] !== undefined,
      });
    }
  }
  return operations;
}

// ------------------------------------------------------------------------------------ generators

/** Values the world holds (addresses of signed-in users, ids of things that exist): matched against patterns. */
interface Known {
  values: string[];
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '\u0000',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '1e400',
  '0x',
  '{"$ne":null}',
  "' OR '1'='1' --",
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '\u202egnp.exe',
  '\ud800',
  '\r\nX-Injected: 1',
  'A'.repeat(10_000),
  '🩺'.repeat(2_000),
  'true',
  '[]',
  '{}',
];

/** Keys that trip naive merges and lookups. */
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '$where',
  '$ne',
  '',
  ' ',
  'a.b',
  'a[b]',
  '\u0000',
];

const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ unit: 'binary', maxLength: 12 }));

/**
 * A value too big to print in a counterexample (a long string, deep nesting, a long array): generated
 * as its size, written out as JSON text by `jsonText` (JSON.stringify itself overflows the stack on
 * a few thousand levels).
 */
class Sized {
  constructor(
    readonly kind: 'string' | 'nested arrays' | 'nested objects' | 'array',
    readonly size: number,
  ) {}

  text(): string {
    switch (this.kind) {
      case 'string':
        return `"${'x'.repeat(this.size)}"`;
      case 'array':
        return `[${Array.from({ length: this.size }, (_, i) => i).join(',')}]`;
      case 'nested arrays':
        return `${'['.repeat(this.size)}1${']'.repeat(this.size)}`;
      case 'nested objects':
        return `${'{"a":'.repeat(this.size)}1${'}'.repeat(this.size)}`;
    }
  }

  [fc.toStringMethod](): string {
    return `${this.kind}(${this.size})`;
  }
}

/** JSON text for a generated value; own `__proto__` keys are written like any other. */
function jsonText(value: unknown): string {
  if (value instanceof Sized) return value.text();
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ unit: 'binary', maxLength: 30 }),
  // Up to past MAX_BODY_BYTES (256 KiB by default): such a body must be a 413, not a crash.
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => new Sized('string', n)),
  fc.double(), // NaN and ±Infinity travel as null
  fc.integer(),
  fc.constantFrom(2 ** 53, -(2 ** 53) - 2, 1e308, -0, 5e-324, 0.1 + 0.2),
  fc.boolean(),
  fc.constant(null),
);

/** An object whose keys may be `__proto__` and friends, as own properties (as JSON.parse makes them). */
const objectOf = (key: fc.Arbitrary<string>, value: fc.Arbitrary<unknown>) =>
  fc.array(fc.tuple(key, value), { maxLength: 4 }).map((entries) => {
    const object: Record<string, unknown> = {};
    for (const [k, v] of entries) setOwn(object, k, v);
    return object;
  });

function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });
}

const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileScalar,
    fc.array(tie('value'), { maxLength: 4 }),
    objectOf(hostileKey, tie('value')),
  ),
})).value;

const deeplyNested = fc
  .tuple(fc.integer({ min: 20, max: 5_000 }), fc.constantFrom('nested arrays', 'nested objects'))
  .map(([depth, kind]) => new Sized(kind, depth));

const hugeArray = fc.integer({ min: 1_000, max: 60_000 }).map((n) => new Sized('array', n));

/** Any ISO-8601 time, from year -271821 to +275760, and times in the next month. */
const isoTime = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: 60, max: 30 * DAY }).map((s) => new Date(Date.now() + s * 1000).toISOString()),
);

/** Whole numbers in range, with unix times around now when the range holds them (deadlines, expiries). */
function wholeNumber(min: number, max: number): fc.Arbitrary<number> {
  const anywhere = fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
  const now = Math.floor(Date.now() / 1000);
  if (now - DAY < min || now + 400 * DAY > max) return anywhere;
  return fc.oneof(
    anywhere,
    fc.integer({ min: -DAY, max: 400 * DAY }).map((offset) => now + offset),
  );
}

/**
 * A `^[class]+$` pattern with length limits becomes `^[class]{min,max}$`, so that the generated
 * strings respect both (and stay short enough to read in a counterexample).
 */
function patternWithLength(schema: Schema): RegExp {
  const pattern = schema.pattern!;
  const bounded = /^\^(\[[^\]]+\])\+\$$/.exec(pattern);
  if (bounded && (schema.minLength !== undefined || schema.maxLength !== undefined)) {
    const min = schema.minLength ?? 1;
    return new RegExp(`^${bounded[1]}{${min},${Math.max(min, Math.min(schema.maxLength ?? 64, 64))}}$`);
  }
  return new RegExp(pattern);
}

function stringOf(schema: Schema, known: Known): fc.Arbitrary<string> {
  if (schema.pattern) {
    const pattern = patternWithLength(schema);
    const matching = known.values.filter((v) => pattern.test(v));
    const generated = fc.stringMatching(pattern);
    return matching.length > 0 ? fc.oneof(fc.constantFrom(...matching), generated) : generated;
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? 40, 40));
  return fc.oneof(isoTime, fc.string({ minLength, maxLength }));
}

/** A value the schema accepts, give or take what the schema cannot say (a real signature, a time's range). */
function validValue(
  schema: Schema | undefined,
  known: Known,
  schemas: Record<string, Schema>,
): fc.Arbitrary<unknown> {
  const resolved = schema?.$ref ? schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
  if (!resolved) return hostileJson; // a $ref the document does not resolve: the schema says nothing
  if (resolved.enum) return fc.constantFrom(...resolved.enum);
  const child = (s: Schema | undefined) => validValue(s, known, schemas);
  switch (resolved.type) {
    case 'string':
      return stringOf(resolved, known);
    case 'integer':
      return wholeNumber(resolved.minimum ?? -(2 ** 31), resolved.maximum ?? 2 ** 31);
    case 'number':
      return fc.double({ min: resolved.minimum, max: resolved.maximum, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const constraints = {
        minLength: resolved.minItems ?? 0,
        maxLength: Math.max(resolved.minItems ?? 0, Math.min(resolved.maxItems ?? 3, 3)),
      };
      return resolved.uniqueItems
        ? fc.uniqueArray(child(resolved.items), constraints)
        : fc.array(child(resolved.items), constraints);
    }
    default:
      if (resolved.properties) {
        return fc.record(
          Object.fromEntries(Object.entries(resolved.properties).map(([k, s]) => [k, child(s)])),
          { requiredKeys: resolved.required ?? [] },
        );
      }
      if (typeof resolved.additionalProperties === 'object') {
        // A map: keyed by things that exist (a participant's address) or anything.
        const minKeys = resolved.minProperties ?? 0;
        const key =
          known.values.length > 0 ? fc.oneof(fc.constantFrom(...known.values), fc.string()) : fc.string();
        return fc.dictionary(key, child(resolved.additionalProperties), {
          minKeys,
          maxKeys: Math.max(minKeys, Math.min(resolved.maxProperties ?? 3, 3)),
        });
      }
      return hostileJson;
  }
}

interface Mutation {
  kind: 'drop' | 'replace' | 'extra';
  /** Which object or array of the value (in depth-first order), and which of its members. */
  node: number;
  member: number;
  key: string;
  value: unknown;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('drop', 'replace', 'extra'),
  node: fc.nat(),
  member: fc.nat(),
  key: hostileKey,
  value: fc.oneof({ weight: 6, arbitrary: hostileJson }, deeplyNested, hugeArray),
});

/** A deep copy of plain objects and arrays; anything else (Sized included) is shared. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (value === null || typeof value !== 'object' || value instanceof Sized) return value;
  const object: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) setOwn(object, k, copy(v));
  return object;
}

/** `base` (a copy) with one member of one of its objects or arrays dropped, replaced or added. */
function mutate(base: unknown, m: Mutation): unknown {
  const root = copy(base);
  const containers: (Record<string, unknown> | unknown[])[] = [];
  const collect = (value: unknown) => {
    if (value === null || typeof value !== 'object' || value instanceof Sized) return;
    containers.push(value as Record<string, unknown>);
    for (const member of Object.values(value)) collect(member);
  };
  collect(root);
  if (containers.length === 0) return m.value; // a scalar body: replaced whole
  const node = containers[m.node % containers.length]!;
  if (Array.isArray(node)) {
    const index = node.length > 0 ? m.member % node.length : 0;
    if (m.kind === 'drop') node.splice(index, 1);
    else if (m.kind === 'replace') node[index] = m.value;
    else node.push(m.value);
  } else {
    const keys = Object.keys(node);
    const key = keys.length > 0 ? keys[m.member % keys.length]! : m.key;
    if (m.kind === 'drop') delete node[key];
    else setOwn(node, m.kind === 'replace' ? key : m.key, m.value);
  }
  return root;
}

// ------------------------------------------------------------------------------------ requests

type Caller = 'patient' | 'provider' | 'auditor' | 'admin' | 'emergency';
const CALLERS: readonly Caller[] = ['patient', 'provider', 'auditor', 'admin', 'emergency'];

type Authorization =
  | { kind: 'token'; caller: Caller }
  | { kind: 'absent' }
  | { kind: 'garbage'; value: string }
  /** A caller's token with one character changed, cut short or sent under another scheme. */
  | {
      kind: 'spoiled';
      caller: Caller;
      how: 'flip' | 'truncate' | 'basic' | 'lowercase' | 'twice';
      at: number;
    };

type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown; contentType: string }
  | { kind: 'raw'; payload: string | Uint8Array; contentType: string | null };

interface HostileRequest {
  authorization: Authorization;
  /** Each path parameter: a value to percent-encode, or a raw path segment. */
  params: Record<string, { value: string } | { raw: string }>;
  query: [string, string][];
  /** Appended to the query string as is. */
  rawQuery: string | null;
  body: Body;
  correlationId: string | null;
  headers: [string, string][];
}

/** Printable ASCII and Latin-1: what an HTTP header can carry. */
const headerText = (maxLength: number) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f && (c < 0x80 || c >= 0xa0))
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

const authorization: fc.Arbitrary<Authorization> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({ kind: fc.constant('token' as const), caller: fc.constantFrom(...CALLERS) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'absent' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      value: fc.oneof(
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          'Bearer null',
          'Bearer undefined',
          'Basic YWRtaW46YWRtaW4=',
          'Bearer a.b.c',
        ),
        headerText(300).map((s) => `Bearer ${s}`),
        headerText(60),
        fc.integer({ min: 1_000, max: 9_000 }).map((n) => `Bearer ${'A'.repeat(n)}`),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('spoiled' as const),
      caller: fc.constantFrom(...CALLERS),
      how: fc.constantFrom('flip', 'truncate', 'basic', 'lowercase', 'twice'),
      at: fc.nat(),
    }),
  },
);

const RAW_PATH_SEGMENTS = [
  '.',
  '..',
  '%00',
  '%',
  '%zz',
  '%2e%2e%2f',
  '..%2f..%2fetc%2fpasswd',
  '%C0%AE',
  ';',
  ',',
  '*',
  '~',
];

const hostileParam = fc.oneof(
  fc.constantFrom(...RAW_PATH_SEGMENTS).map((raw) => ({ raw })),
  fc
    .oneof(
      fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s.length < 100)),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.integer({ min: 90, max: 2_000 }).map((n) => 'x'.repeat(n)), // past Fastify's maxParamLength (100)
      fc.double().map(String),
      fc.constant(''),
    )
    .map((value) => ({ value })),
);

const RAW_QUERIES = [
  '&',
  '%',
  '%zz',
  '%00=%00',
  '=',
  '==',
  '&&&',
  'a[b][c]=1',
  '__proto__[admin]=1',
  'constructor[prototype][admin]=1',
  'limit=1&limit=2',
  'cursor=%E0%A4%A',
  'limit=1e400',
  Array.from({ length: 500 }, (_, i) => `p${i}=${i}`).join('&'),
];

/** Media types a client might send, JSON in disguise or not JSON at all. */
const JSON_MEDIA_TYPES = [
  'application/json; charset=utf-8',
  'application/json;charset=latin1',
  'application/json; charset=utf-16le',
  'APPLICATION/JSON',
  'application/json; boundary=x; charset=',
  'application/merge-patch+json',
  'application/vnd.api+json',
];
const OTHER_MEDIA_TYPES = [
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/xml',
  'application/octet-stream',
  '*/*',
  ';;;',
  'application/',
  '',
];

const RAW_BODIES = [
  '',
  '{',
  '{"a":',
  'nul',
  "{'a':1}",
  '{"a":1}garbage',
  '{"a":1,}',
  '[1,2',
  '\ufeff{}',
  'NaN',
  '"just a string"',
  '12345678901234567890123456789',
  'null',
  'true',
  '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}',
  '{"a":1,"a":2}',
  '['.repeat(100_000),
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
  'a=1&b=2',
  '<?xml version="1.0"?><a/>',
];

const ODD_HEADERS: [string, string][] = [
  ['x-forwarded-for', '127.0.0.1, ::1, not-an-ip'],
  ['x-forwarded-proto', 'gopher'],
  ['x-real-ip', '999.999.999.999'],
  ['accept', 'application/xml;q=garbage, */*;q=-1'],
  ['accept-language', '*;q=0'],
  ['accept-encoding', 'gzip, br, zstd, identity;q=0'],
  ['content-encoding', 'gzip'],
  ['origin', 'https://evil.example'],
  ['referer', 'javascript:alert(1)'],
  ['x-http-method-override', 'DELETE'],
  ['cookie', 'session=__proto__; a=b'],
  ['if-none-match', '*'],
  ['range', 'bytes=0-1,2-3'],
  ['user-agent', ''],
];

function bodyOf(op: Operation, known: Known, schemas: Record<string, Schema>): fc.Arbitrary<Body> {
  const valid = op.body ? validValue(op.body, known, schemas) : fc.constant({});
  const jsonValue = fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 5, arbitrary: fc.tuple(valid, mutation).map(([base, m]) => mutate(base, m)) },
    { weight: 1, arbitrary: hostileJson },
    { weight: 1, arbitrary: fc.oneof(deeplyNested, hugeArray) },
  );
  const json = fc.record({
    kind: fc.constant('json' as const),
    value: jsonValue,
    contentType: fc.oneof(
      { weight: 8, arbitrary: fc.constant('application/json') },
      { weight: 1, arbitrary: fc.constantFrom(...JSON_MEDIA_TYPES) },
      { weight: 1, arbitrary: fc.constantFrom(...OTHER_MEDIA_TYPES) },
    ),
  });
  const raw = fc.record({
    kind: fc.constant('raw' as const),
    payload: fc.oneof(
      fc.constantFrom(...RAW_BODIES),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ minLength: 1, maxLength: 4_096 }),
    ),
    contentType: fc.oneof(
      { weight: 4, arbitrary: fc.constant('application/json') },
      { weight: 2, arbitrary: fc.constantFrom(...JSON_MEDIA_TYPES, ...OTHER_MEDIA_TYPES) },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
  });
  const binary = fc.record({
    kind: fc.constant('raw' as const),
    payload: fc.uint8Array({ minLength: 0, maxLength: 4_096 }),
    contentType: fc.constant('application/octet-stream'),
  });
  const none = fc.constant({ kind: 'none' as const });
  const takesBody = op.method !== 'GET';
  return fc.oneof(
    { weight: takesBody ? (op.body || op.binary ? 1 : 4) : 12, arbitrary: none },
    { weight: takesBody ? 6 : 1, arbitrary: json },
    { weight: takesBody ? 2 : 1, arbitrary: raw },
    { weight: op.binary ? 6 : 1, arbitrary: binary },
  );
}

function queryOf(
  op: Operation,
  known: Known,
  schemas: Record<string, Schema>,
): fc.Arbitrary<[string, string][]> {
  const declared = op.query
    ? (validValue(op.query, known, schemas) as fc.Arbitrary<Record<string, unknown>>).map((q) =>
        Object.entries(q).map(([k, v]): [string, string] => [k, String(v)]),
      )
    : fc.constant<[string, string][]>([]);
  const offSchema = fc.tuple(
    fc.oneof(hostileKey, fc.constantFrom(...Object.keys(op.query?.properties ?? { limit: 1 }))),
    fc.oneof(
      fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s.length < 2_500)),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.integer({ min: 400, max: 8_000 }).map((n) => 'q'.repeat(n)),
    ),
  );
  return fc.oneof(
    { weight: 3, arbitrary: declared },
    {
      weight: 2,
      arbitrary: fc
        .tuple(declared, fc.array(offSchema, { minLength: 1, maxLength: 3 }))
        .map(([pairs, extra]) => [...pairs, ...extra]),
    },
  );
}

function requestOf(
  op: Operation,
  known: Known,
  schemas: Record<string, Schema>,
): fc.Arbitrary<HostileRequest> {
  const params = Object.fromEntries(
    Object.entries(op.params).map(([name, schema]) => [
      name,
      fc.oneof(
        { weight: 4, arbitrary: stringOf(schema, known).map((value) => ({ value })) },
        { weight: 2, arbitrary: hostileParam },
      ),
    ]),
  ) as Record<string, fc.Arbitrary<{ value: string } | { raw: string }>>;
  return fc.record({
    authorization,
    params: fc.record(params),
    query: queryOf(op, known, schemas),
    rawQuery: fc.option(fc.constantFrom(...RAW_QUERIES), { freq: 6 }),
    body: bodyOf(op, known, schemas),
    correlationId: fc.option(
      fc.oneof(
        fc.uuid(),
        headerText(120),
        fc.constantFrom('../x', ' ', '\t', 'a:b:c', '%00', 'a b', '0'.repeat(101)),
        fc.integer({ min: 1_000, max: 8_000 }).map((n) => 'c'.repeat(n)),
      ),
      { freq: 3 },
    ),
    headers: fc.array(fc.constantFrom(...ODD_HEADERS), { maxLength: 2 }),
  });
}

// ------------------------------------------------------------------------------------ sending

/** Percent-encodes UTF-8 bytes (lone surrogates become U+FFFD, as any UTF-8 client sends them). */
function percentEncode(value: string): string {
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

function urlOf(op: Operation, request: HostileRequest): string {
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const param = request.params[name]!;
    return 'raw' in param ? param.raw : percentEncode(param.value);
  });
  const query = [
    ...request.query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`),
    ...(request.rawQuery === null ? [] : [request.rawQuery]),
  ].join('&');
  return query ? `${path}?${query}` : path;
}

function spoil(token: string, how: Extract<Authorization, { kind: 'spoiled' }>['how'], at: number): string {
  switch (how) {
    case 'flip': {
      const i = at % token.length;
      return `Bearer ${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
    }
    case 'truncate':
      return `Bearer ${token.slice(0, at % token.length)}`;
    case 'basic':
      return `Basic ${token}`;
    case 'lowercase':
      return `bearer ${token}`;
    case 'twice':
      return `Bearer ${token}, Bearer ${token}`;
  }
}

interface World {
  api: TestApi;
  users: Record<Caller, User>;
}

function headersOf(w: World, request: HostileRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = value;
  const auth = request.authorization;
  if (auth.kind === 'token') headers.authorization = `Bearer ${w.users[auth.caller].token}`;
  else if (auth.kind === 'garbage') headers.authorization = auth.value;
  else if (auth.kind === 'spoiled')
    headers.authorization = spoil(w.users[auth.caller].token, auth.how, auth.at);
  if (request.correlationId !== null) headers['x-correlation-id'] = request.correlationId;
  if (request.body.kind === 'json') headers['content-type'] = request.body.contentType;
  if (request.body.kind === 'raw' && request.body.contentType !== null) {
    headers['content-type'] = request.body.contentType;
  }
  return headers;
}

function payloadOf(body: Body): string | Buffer | undefined {
  if (body.kind === 'json') return jsonText(body.value);
  if (body.kind === 'raw') return typeof body.payload === 'string' ? body.payload : Buffer.from(body.payload);
  return undefined;
}

/** A request left unanswered this long is a hang, reported as such. */
const ANSWER_TIMEOUT_MS = 10_000;

async function answerWithin<T>(ms: number, promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const isAuditedDenial = (event: RecordedEvent) =>
  event.type === 'AccessAudited' && (event.data as AccessAuditedData).outcome === 'denied';

/** Answers by status (and how many were audited denials), per operation: to show what the requests reached. */
type Tally = Record<string, Record<string, number>>;

/** Sends one request and checks what it did; throws naming the request when it broke a rule. */
async function send(w: World, op: Operation, request: HostileRequest, tally: Tally): Promise<void> {
  const url = urlOf(op, request);
  const head = await w.api.eventStore.headPosition();
  const res = await answerWithin(
    ANSWER_TIMEOUT_MS,
    w.api.inject({
      method: op.method as 'GET',
      url,
      headers: headersOf(w, request),
      payload: payloadOf(request.body),
    }),
    () => `no answer within ${ANSWER_TIMEOUT_MS} ms: ${op.method} ${url.slice(0, 300)}`,
  );
  const appended = await w.api.events(head);
  const status = res.statusCode;
  const counts = (tally[op.key] ??= {});
  counts[status] = (counts[status] ?? 0) + 1;
  if (appended.some(isAuditedDenial)) counts.audited = (counts.audited ?? 0) + 1;

  // Signing out revokes the token the other requests use (`bearer <token>` is still that token): sign in again.
  const auth = request.authorization;
  if (
    op.key === 'POST /auth/sign-out' &&
    status < 300 &&
    (auth.kind === 'token' || auth.kind === 'spoiled')
  ) {
    const user = w.users[auth.caller];
    user.token = await w.api.signIn(user.wallet);
  }

  const what = () => `${op.method} ${url.slice(0, 300)} → ${status} ${res.body.slice(0, 300)}`;
  assert.ok(status < 500, `server error: ${what()}`);
  if (status >= 400) {
    const changes = appended.filter((e) => !isAuditedDenial(e));
    assert.deepEqual(
      changes.map((e) => `${e.type} on ${e.stream}`),
      [],
      `a refused request (${status}) appended events: ${what()}`,
    );
  }
}

/** A stable per-operation seed, so that adding an operation does not change the others' requests. */
function seedOf(key: string): number {
  let hash = 0x811c9dc5;
  for (const c of key) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193);
  return (BASE_SEED ^ hash) | 0;
}

// ------------------------------------------------------------------------------------ the suite

describe('hostile input on every route of the OpenAPI document: no 5xx, and a 4xx changes nothing', () => {
  let anvil: Anvil;
  let chain: Deployed;
  let w: World;
  let doc: OpenApiDocument;
  const known: Known = { values: [] };
  const tally: Tally = {};

  before(async () => {
    anvil = await startAnvil();
    chain = await deployContract(anvil.url);
    const api = await TestApi.start({
      CHAIN_RPC_URL: anvil.url,
      CONTRACT_ADDRESS: chain.address,
      CHAIN_ID: String(ANVIL_CHAIN_ID),
      CHAIN_POLL_INTERVAL: '100ms',
      CHAIN_CONFIRMATIONS: '0',
      // Timers that append on their own would blur which request appended what.
      AUDIT_ANCHOR_INTERVAL: '0',
      // The limits answer 429 before anything else runs: high, so that requests reach validation.
      RATE_LIMIT_SIGN_IN: '1000000',
      RATE_LIMIT_RELAY: '1000000',
      RATE_LIMIT_CREDENTIALS: '1000000',
      RATE_LIMIT_UPLOADS: '1000000',
      // Chat credentials are signed locally (nothing is sent to Tencent): configured, so the route works.
      TENCENT_CHAT_SDK_APP_ID: '1400000000',
      TENCENT_CHAT_SECRET_KEY: randomBytes(32).toString('hex'),
    });
    const users = {} as Record<Caller, User>;
    users.patient = await api.newUser();
    for (const role of ['provider', 'auditor', 'admin', 'emergency'] as const satisfies readonly Role[]) {
      users[role] = await api.newUser(role);
    }
    w = { api, users };

    // Things that exist, so that valid-looking ids and addresses reach past "not found".
    const { patient, provider } = users;
    const conversation = await startConversation(api, patient, provider);
    const message = envelopeFor([patient.address, provider.address]);
    const sent = await api.post(`/conversations/${conversation}/messages`, message, patient.token);
    assert.equal(sent.statusCode, 201, sent.body);
    const request = await api.post(
      '/consent-requests',
      {
        patient: patient.address,
        category: 'lab_results',
        purpose: 'Review of results',
        durationSeconds: DAY,
      },
      provider.token,
    );
    assert.equal(request.statusCode, 201, request.body);
    await api.grant(patient.address, provider.address, 'telehealth', new Date(Date.now() + 30 * DAY * 1000));
    const session = await api.post(
      '/sessions',
      {
        patient: patient.address,
        category: 'general',
        startsAt: new Date(Date.now() + DAY * 1000).toISOString(),
        durationMinutes: 30,
      },
      provider.token,
    );
    assert.equal(session.statusCode, 201, session.body);
    const audited = (await api.events()).find((e) => e.type === 'AccessAudited');
    known.values.push(
      ...Object.values(users).map((u) => u.address),
      conversation,
      message.messageId,
      request.json<{ id: string }>().id,
      session.json<{ id: string }>().id,
      ...(audited ? [audited.id] : []),
    );

    const res = await api.get('/api/docs-json');
    assert.equal(res.statusCode, 200);
    doc = res.json<OpenApiDocument>();
    // The mirror checkpoints the blocks it read (the deployment's, here): done before the first request,
    // and nothing is mined after (no signature the requests carry is valid), so it appends no more.
    const head = await chain.provider.getBlockNumber();
    await until('the chain mirror to read the deployment', async () =>
      (await api.events()).some(
        (e) =>
          e.stream === mirrorStream(chain.address) &&
          e.type === 'ChainMirrored' &&
          (e.data as { toBlock: number }).toBlock >= head,
      ),
    );
    await api.settle();
  });

  after(async () => {
    await w?.api.close();
    chain?.close();
    await anvil?.close();
  });

  test('generated requests to every operation: status < 500; a 4xx appends nothing but audited denials', async (t) => {
    const schemas = doc.components?.schemas ?? {};
    const operations = operationsOf(doc).filter((op) => !ONLY_ROUTE || op.key === ONLY_ROUTE);
    assert.ok(operations.length > 0, `no operation ${ONLY_ROUTE ?? ''}`);
    const started = Date.now();
    for (const op of operations) {
      const seed = seedOf(op.key);
      await t.test(op.key, async () => {
        try {
          await fc.assert(
            fc.asyncProperty(requestOf(op, known, schemas), (request) => send(w, op, request, tally)),
            { seed, numRuns: RUNS_PER_OPERATION, includeErrorInReport: true },
          );
        } catch (error) {
          throw new Error(
            `${op.key} (operation seed ${seed}; rerun with HOSTILE_INPUT_SEED=${BASE_SEED} ` +
              `HOSTILE_INPUT_ROUTE='${op.key}'):\n${(error as Error).message}`,
            { cause: error },
          );
        }
      });
    }
    const requests = Object.values(tally).flatMap((counts) =>
      Object.entries(counts).filter(([status]) => status !== 'audited'),
    );
    t.diagnostic(
      `${operations.length} operations, ${requests.reduce((sum, [, n]) => sum + n, 0)} requests ` +
        `in ${((Date.now() - started) / 1000).toFixed(1)} s (base seed ${BASE_SEED}, ${RUNS_PER_OPERATION} per operation)`,
    );
    for (const [key, counts] of Object.entries(tally)) {
      t.diagnostic(
        `${key}: ${Object.entries(counts)
          .map(([status, n]) => `${status}×${n}`)
          .join(' ')}`,
      );
    }
  });
});
