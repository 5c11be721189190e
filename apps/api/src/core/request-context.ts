import { randomUUID } from 'node:crypto';
import { createParamDecorator, type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from './aggregate-repository';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** The command context of an authenticated request: the signed-in address, a correlation id, now. */
export function requestContext(request: FastifyRequest): CommandContext {
  const principal = request.principal;
  if (!principal) throw new UnauthorizedException('Authentication required.');
  const header = request.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && CORRELATION_ID.test(header) ? header : randomUUID();
  return { actor: principal.address.toLowerCase(), correlationId, now: new Date() };
}

/** Injects the CommandContext of the current request into a controller method. */
export const Context = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  requestContext(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
