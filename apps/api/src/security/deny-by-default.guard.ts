import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AccessDecisionRecorder, describeRoute, recordDenial } from '../auth/access-decision-recorder';
import { Authenticator } from './authenticator';
import { IS_PUBLIC_ROUTE } from './public.decorator';

/**
 * Global guard (APP_GUARD): every route requires an authenticated principal
 * unless it, or its controller, is marked @Public(). A new route is therefore
 * closed until someone decides otherwise. Answers 401 with the reason, and
 * reports the refusal to the AccessDecisionRecorder (actor `anonymous`).
 */
@Injectable()
export class DenyByDefaultGuard implements CanActivate {
  private readonly logger = new Logger('DenyByDefaultGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly decisions: AccessDecisionRecorder,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    if (context.getType() !== 'http') return false; // other transports bring their own guard

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const result = this.authenticator.authenticate(request);
    if (!result.authenticated) {
      await recordDenial(
        this.decisions,
        {
          ...describeRoute(request),
          actor: 'anonymous',
          outcome: 'denied',
          reason: `authentication required: ${result.reason}`,
          patient: null,
          purpose: null,
        },
        this.logger,
      );
      throw unauthorized(result.reason);
    }
    request.principal = result.principal;
    return true;
  }
}

/** 401 `{ statusCode, error, message }` naming why the request was refused. */
export function unauthorized(reason: string): UnauthorizedException {
  return new UnauthorizedException(`Authentication required: ${reason}.`);
}
