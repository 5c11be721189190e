import { SetMetadata } from '@nestjs/common';

/** Metadata key set by @Public(). */
export const IS_PUBLIC_ROUTE = 'custos:public-route';

/**
 * Marks a controller or a route handler as reachable without signing in.
 * Every other route is denied by the global DenyByDefaultGuard. Use sparingly:
 * a public route must not reveal anything about a patient.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_ROUTE, true);
