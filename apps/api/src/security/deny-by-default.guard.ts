import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Authenticator } from './authenticator';
import { IS_PUBLIC_ROUTE } from './public.decorator';

/**
 * Global guard (APP_GUARD): every route requires an authenticated principal
 * unless it, or its controller, is marked @Public(). A new route is therefore
 * closed until someone decides otherwise. Answers 401 with the reason.
 */
@Injectable()
export class DenyByDefaultGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    if (context.getType() !== 'http') return false; // other transports bring their own guard

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const result = this.authenticator.authenticate(request);
    if (!result.authenticated) throw unauthorized(result.reason);
    request.principal = result.principal;
    return true;
  }
}

/** 401 `{ statusCode, error, message }` naming why the request was refused. */
export function unauthorized(reason: string): UnauthorizedException {
  return new UnauthorizedException(`Authentication required: ${reason}.`);
}
