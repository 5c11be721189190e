import { SetMetadata } from '@nestjs/common';
import type { Role } from '@custos/domain';

/** Roles a route can require. (`anchor` is the relayer's on-chain role, not a person's.) */
export type GuardedRole = Exclude<Role, 'anchor'>;

/** Metadata key set by @Roles(). */
export const REQUIRED_ROLES = 'custos:required-roles';

/**
 * Restricts a route (or every route of a controller; a route's own @Roles
 * replaces its controller's) to accounts that hold at least one of the given
 * roles on the chain at the time of the request. Others get 403 naming the
 * role, and the refusal is recorded (AccessDecisionRecorder). Implies signing
 * in, even on a @Public() route.
 */
export const Roles = (first: GuardedRole, ...more: GuardedRole[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_ROLES, [first, ...more]);
