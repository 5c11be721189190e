import { inject } from '@angular/core';
import { type CanActivateFn, Router, type UrlTree } from '@angular/router';

import { type Role, Session } from './session';

/** The roles a page can require (`anchor` is the relayer's, not a person's). */
export type PageRole = Exclude<Role, 'anchor'>;

/** `/sign-in?returnUrl=<where the user was going>`. */
export function signInUrl(router: Router, returnUrl: string): UrlTree {
  return router.createUrlTree(['/sign-in'], { queryParams: { returnUrl } });
}

/**
 * Only a `returnUrl` inside this app is followed after sign-in (no `//host` or `https://…`), so a
 * crafted link cannot send someone elsewhere.
 */
export function safeReturnUrl(value: string | null | undefined): string | null {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  if (value.startsWith('/sign-in')) return null;
  return value;
}

/**
 * Lets signed-in users through; others go to `/sign-in?returnUrl=…`. Waits for a session kept from
 * before a reload to be checked first.
 *
 * `{ path: 'patient', canActivate: [requireSignIn], loadComponent: … }`
 */
export const requireSignIn: CanActivateFn = async (_route, state) => {
  const session = inject(Session);
  const router = inject(Router);
  await session.ready;
  return session.signedIn() ? true : signInUrl(router, state.url);
};

/**
 * Lets through accounts holding `role`; signed-out users go to sign in, signed-in users without the
 * role go to the home page, which says that this area is not theirs (`/?denied=<path>`).
 *
 * `{ path: 'provider', canActivate: [requireRole('provider')], loadComponent: … }`
 */
export function requireRole(role: PageRole): CanActivateFn {
  return async (_route, state) => {
    const session = inject(Session);
    const router = inject(Router);
    await session.ready;
    if (!session.signedIn()) return signInUrl(router, state.url);
    if (session.hasRole(role)) return true;
    return router.createUrlTree(['/'], { queryParams: { denied: state.url.split('?')[0] } });
  };
}
