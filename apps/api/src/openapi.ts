// The OpenAPI document, described by what validates and guards each request: the class-validator rules
// of the @Body()/@Query()/@Param() DTO classes give the schemas and parameters, LARGE_BODY_ROUTES the raw
// upload bodies, @Public() and @Roles() the routes that need a bearer token. Nothing is declared twice.
import type { INestApplication, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import {
  DocumentBuilder,
  type OpenAPIObject,
  type OperationObject,
  type ParameterObject,
  type PathItemObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { targetConstructorToSchema, validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { REQUIRED_ROLES } from './auth/roles.decorator';
import { LARGE_BODY_ROUTES } from './security/body-limits';
import { IS_PUBLIC_ROUTE } from './security/public.decorator';
import { appVersion } from './version';

/** The bearer scheme's name in components.securitySchemes. */
export const BEARER_SCHEME = 'bearer';

type SchemaOptions = NonNullable<Parameters<typeof validationMetadatasToSchemas>[0]>;

// class-transformer's metadata (@Type(() => X) of nested and array fields) is in a module it publishes
// no types for; without it, such fields become `$ref`s to Array or Object.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as {
  defaultMetadataStorage: NonNullable<SchemaOptions['classTransformerMetadataStorage']>;
};

const SCHEMA_OPTIONS: SchemaOptions = {
  refPointerPrefix: '#/components/schemas/',
  classTransformerMetadataStorage: defaultMetadataStorage,
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Links each operation of the document to its handler: `RecordsController_list`. */
const operationIdOf = (controller: string, handler: string) => `${controller}_${handler}`;

interface RouteHandler {
  controller: Type;
  name: string;
}

/** The inputs a handler validates: @Body(), @Query() and @Param(), whole (a DTO class) or one field. */
interface HandlerInput {
  kind: RouteParamtypes.BODY | RouteParamtypes.QUERY | RouteParamtypes.PARAM;
  /** `@Param('id')` → 'id'; undefined for the whole input. */
  field?: string;
  /** The parameter's declared type (design:paramtypes), the DTO class for a whole input. */
  type: unknown;
}

/** The OpenAPI document of every route the app's controllers declare. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Custos API')
      .setDescription(
        'Patient-controlled consent for health data. Sign in with Ethereum, then send the token as Bearer.',
      )
      .setVersion(appVersion())
      .addBearerAuth(undefined, BEARER_SCHEME)
      .build(),
    { operationIdFactory: operationIdOf },
  );
  const schemas = validationMetadatasToSchemas(SCHEMA_OPTIONS) as Record<string, SchemaObject>;
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...schemas } };

  const handlers = routeHandlers(app);
  const reflector = new Reflector();
  for (const [path, item] of Object.entries(document.paths) as [string, PathItemObject][]) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const route = `${method.toUpperCase()} ${path}`;
      const handler = handlers.get(operation.operationId ?? '');
      if (!handler) {
        throw new Error(`OpenAPI: ${route} (${operation.operationId}) names no controller method`);
      }
      const inputs = inputsOf(handler);
      describeParameters(operation, path, inputs);
      describeRequestBody(operation, route, inputs, schemas);
      const handlerFn = (handler.controller.prototype as Record<string, () => unknown>)[handler.name]!;
      const targets = [handlerFn, handler.controller];
      // As DenyByDefaultGuard and RolesGuard decide: @Roles implies signing in, even on a @Public() route.
      const signInRequired =
        !reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_ROUTE, targets) ||
        reflector.getAllAndOverride<unknown>(REQUIRED_ROLES, targets) !== undefined;
      if (signInRequired) operation.security = [{ [BEARER_SCHEME]: [] }];
    }
  }
  return document;
}

/** Every controller method, by the operationId the document gives it. */
function routeHandlers(app: INestApplication): Map<string, RouteHandler> {
  const discovery = new DiscoveryService(app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const handlers = new Map<string, RouteHandler>();
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as Type | undefined;
    if (!controller) continue;
    for (const name of scanner.getAllMethodNames(controller.prototype as object)) {
      handlers.set(operationIdOf(controller.name, name), { controller, name });
    }
  }
  return handlers;
}

function inputsOf({ controller, name }: RouteHandler): HandlerInput[] {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype as object, name) ??
    []) as unknown[];
  const inputs: HandlerInput[] = [];
  for (const [key, { index, data }] of Object.entries(args)) {
    // Keys are `${RouteParamtypes}:${index}`; custom decorators (@Context(), @Req()) have others.
    const kind = Number(key.split(':')[0]);
    if (kind !== RouteParamtypes.BODY && kind !== RouteParamtypes.QUERY && kind !== RouteParamtypes.PARAM) {
      continue;
    }
    inputs.push({ kind, field: typeof data === 'string' ? data : undefined, type: types[index] });
  }
  return inputs;
}

/**
 * The path and query parameters, from the properties of the @Param() and @Query() DTO classes (or the
 * single field a handler takes); a path template parameter no DTO describes is still declared, as a string.
 */
function describeParameters(operation: OperationObject, path: string, inputs: HandlerInput[]): void {
  const derived = inputs.flatMap((input) =>
    input.kind === RouteParamtypes.BODY
      ? []
      : parametersOf(input, input.kind === RouteParamtypes.PARAM ? 'path' : 'query'),
  );
  // The template's parameters in its order (a DTO field the template lacks is never sent), then the query's.
  const pathParameters = [...path.matchAll(/\{([^}]+)\}/g)].map(
    ([, name]) =>
      derived.find((p) => p.in === 'path' && p.name === name) ??
      ({ name: name!, in: 'path', required: true, schema: { type: 'string' } } satisfies ParameterObject),
  );
  const queryParameters = derived.filter((p) => p.in === 'query');
  // Parameters Swagger already found (from @ApiParam and the like) are kept as declared.
  const declared = (operation.parameters ?? []) as ParameterObject[];
  const isDeclared = (p: ParameterObject) => declared.some((d) => d.in === p.in && d.name === p.name);
  operation.parameters = [
    ...declared,
    ...[...pathParameters, ...queryParameters].filter((p) => !isDeclared(p)),
  ];
}

function parametersOf(input: HandlerInput, location: 'path' | 'query'): ParameterObject[] {
  if (input.field !== undefined) {
    return [
      {
        name: input.field,
        in: location,
        required: location === 'path',
        schema: primitiveSchema(input.type),
      },
    ];
  }
  if (typeof input.type !== 'function') return [];
  const dto = targetConstructorToSchema(input.type, SCHEMA_OPTIONS) as SchemaObject;
  const required = new Set(dto.required ?? []);
  return Object.entries(dto.properties ?? {}).map(([name, schema]) => {
    const description = (schema as SchemaObject).description;
    return {
      name,
      in: location,
      // OpenAPI requires path parameters to be required; Fastify matches no route without them anyway.
      required: location === 'path' || required.has(name),
      ...(description === undefined ? {} : { description }),
      schema,
    };
  });
}

function primitiveSchema(type: unknown): SchemaObject {
  if (type === Number) return { type: 'number' };
  if (type === Boolean) return { type: 'boolean' };
  return { type: 'string' };
}

/** A @Body() DTO Swagger did not describe is sent as JSON; the routes of LARGE_BODY_ROUTES take raw bytes. */
function describeRequestBody(
  operation: OperationObject,
  route: string,
  inputs: HandlerInput[],
  schemas: Record<string, SchemaObject>,
): void {
  const largeBody = LARGE_BODY_ROUTES.find((r) => r.route === route.replace(/\{([^}]+)\}/g, ':$1'));
  if (largeBody) {
    operation.requestBody = {
      required: true,
      description: `The raw bytes, at most ${largeBody.setting} bytes.`,
      content: { [largeBody.mediaType]: { schema: { type: 'string', format: 'binary' } } },
    };
    return;
  }
  if (operation.requestBody) return;
  const body = inputs.find((i) => i.kind === RouteParamtypes.BODY && i.field === undefined);
  if (typeof body?.type !== 'function' || !schemas[body.type.name]) return;
  operation.requestBody = {
    required: true,
    content: {
      'application/json': { schema: { $ref: `${SCHEMA_OPTIONS.refPointerPrefix}${body.type.name}` } },
    },
  };
}
