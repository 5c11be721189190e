import { BadRequestException, HttpStatus } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';

/**
 * Deepest nesting of objects and arrays a request body may have. Our DTOs need four levels at most
 * (a record's keys, a JSON-RPC call's params); class-transformer and class-validator recurse once
 * per level, so a body a few thousand levels deep would overflow the stack (a 500) in the
 * ValidationPipe.
 */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses (400) a parsed body nested deeper than MAX_BODY_DEPTH, before any guard or pipe sees it.
 * JSON.parse itself copes with deep nesting; what comes after it does not.
 *
 * Must run before the routes are registered (before `app.init()`).
 */
export function registerBodyDepthLimit(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (!nestedDeeperThan(request.body, MAX_BODY_DEPTH)) return done();
    done(
      new BadRequestException({
        statusCode: HttpStatus.BAD_REQUEST,
        error: 'Bad Request',
        code: 'body_too_deep',
        message: `Request body nested too deeply: at most ${MAX_BODY_DEPTH} levels of objects and arrays are accepted.`,
      }),
    );
  });
}

/** Whether `value` has objects or arrays more than `max` levels deep; iterative, so any depth is safe. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}
