// What each Nest route takes as input, found from the controllers' own metadata (DiscoveryService and
// MetadataScanner, Nest's public discovery API), and matched against the routes Fastify actually serves
// (TestApi.routes), so a path computed wrongly here fails loudly instead of hiding a route.
import { PATH_METADATA, METHOD_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServedRoute } from './harness';

/** RouteParamtypes of @Body(), @Query(), @Param() (`@nestjs/common` enums/route-paramtypes.enum). */
const INPUT_KINDS: Record<number, RouteInput> = { 3: 'body', 4: 'query', 5: 'params' };
export type RouteInput = 'body' | 'query' | 'params';

export interface NestRoute {
  key: string;
  controller: string;
  handler: string;
  /** The validated inputs the handler declares. */
  inputs: RouteInput[];
  /** The DTO class each whole input is validated as (`@Body() body: VerifyBody` → `VerifyBody`). */
  dtos: Partial<Record<RouteInput, string>>;
}

const paths = (value: unknown): string[] =>
  value === undefined ? [''] : Array.isArray(value) ? value.map(String) : [String(value)];

function join(...parts: string[]): string {
  const joined = `/${parts.join('/')}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/** Every route of every Nest controller, with the inputs its handler declares. */
export function nestRoutes(app: NestFastifyApplication, served: readonly ServedRoute[]): NestRoute[] {
  const discovery = new DiscoveryService(app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const servedKeys = new Set(served.map((r) => r.key));
  const routes: NestRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: never[]) => object) | undefined;
    if (!controller) continue;
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name] as object;
      const methodPath: unknown = Reflect.getMetadata(PATH_METADATA, handler);
      if (methodPath === undefined) continue; // not a route handler
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
        string,
        unknown
      >;
      const inputs = [
        ...new Set(
          Object.keys(args)
            .map((key) => INPUT_KINDS[Number(key.split(':')[0])])
            .filter((kind): kind is RouteInput => kind !== undefined),
        ),
      ];
      const paramTypes = (Reflect.getMetadata('design:paramtypes', controller.prototype, name) ??
        []) as unknown[];
      const dtos: NestRoute['dtos'] = {};
      for (const [key, arg] of Object.entries(args)) {
        const kind = INPUT_KINDS[Number(key.split(':')[0])];
        const { index, data } = arg as { index: number; data?: unknown };
        const type = paramTypes[index];
        if (kind && data === undefined && typeof type === 'function') dtos[kind] = type.name;
      }
      for (const base of paths(Reflect.getMetadata(PATH_METADATA, controller))) {
        for (const sub of paths(methodPath)) {
          const key = `${method} ${join(base, sub)}`;
          if (!servedKeys.has(key)) {
            throw new Error(
              `routes: ${controller.name}.${name} maps to "${key}", which Fastify does not serve ` +
                '(global prefix, RouterModule or versioning added? teach test/api/routes.ts about it)',
            );
          }
          routes.push({ key, controller: controller.name, handler: name, inputs, dtos });
        }
      }
    }
  }
  return routes;
}
