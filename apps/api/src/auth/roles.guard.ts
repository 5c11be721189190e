import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@custos/domain';
import type { FastifyRequest } from 'fastify';
import { Authenticator, type Principal } from '../security/authenticator';
import { unauthorized } from '../security/deny-by-default.guard';
import { AccessDecisionRecorder, describeRoute, recordDenial } from './access-decision-recorder';
import { type GuardedRole, REQUIRED_ROLES } from './roles.decorator';
import { RoleDirectory } from './role-directory';

/**
 * Global guard (APP_GUARD, registered after DenyByDefaultGuard): for every
 * authenticated request, looks up the caller's current roles in the
 * RoleDirectory and puts them on request.principal; on a route marked
 * @Roles(...), refuses (403 naming the role) a caller who holds none of them,
 * and records the refusal.
 *
 * Roles are never taken from the session token: a role revoked on-chain takes
 * effect on the next request.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly logger = new Logger('RolesGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly directory: RoleDirectory,
    private readonly decisions: AccessDecisionRecorder,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<GuardedRole[] | undefined>(REQUIRED_ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (context.getType() !== 'http') return required === undefined; // other transports bring their own guard

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    let principal = request.principal;
    if (!principal) {
      if (required === undefined) return true; // a public route
      // @Roles on a @Public() route (or this guard running first): sign-in is still required.
      const result = this.authenticator.authenticate(request);
      if (!result.authenticated) {
        await recordDenial(
          this.decisions,
          {
            ...describeRoute(request),
            actor: 'anonymous',
            ...denied(`authentication required: ${result.reason}`),
          },
          this.logger,
        );
        throw unauthorized(result.reason);
      }
      principal = result.principal;
    }

    const roles = await this.currentRoles(principal);
    request.principal = { ...principal, roles };
    if (required === undefined || required.some((role) => roles.includes(role))) return true;

    const reason =
      required.length === 1
        ? `this route requires the ${required[0]} role`
        : `this route requires one of the roles ${required.join(', ')}`;
    await recordDenial(
      this.decisions,
      { ...describeRoute(request), actor: principal.address.toLowerCase(), ...denied(reason) },
      this.logger,
    );
    throw new ForbiddenException(`Forbidden: ${reason}.`);
  }

  private async currentRoles(principal: Principal): Promise<readonly Role[]> {
    try {
      return Object.freeze([...(await this.directory.rolesOf(principal.address.toLowerCase()))]);
    } catch (error) {
      this.logger.error(`Role lookup failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new ServiceUnavailableException('Roles cannot be looked up right now; try again shortly.');
    }
  }
}

function denied(reason: string) {
  return { outcome: 'denied', reason, patient: null, purpose: null } as const;
}
