import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who made a request, once authenticated. */
export interface Principal {
  /** The wallet address the user signed in with (EIP-55 checksummed). */
  readonly address: string;
  /** Roles mirrored from the contract: provider, emergency, auditor, admin. */
  readonly roles: readonly string[];
}

export type AuthenticationResult =
  | { readonly authenticated: true; readonly principal: Principal }
  | { readonly authenticated: false; readonly reason: string };

/**
 * Port that turns a request's credentials into a Principal. The guards and
 * the unmatched-route fallback ask it. AuthModule provides it: TokenAuthenticator,
 * which verifies the session tokens issued at sign-in.
 *
 * Synchronous on purpose: it runs in the fallback exception filter too, which
 * must answer synchronously. Verifying a signed token needs no I/O.
 */
export abstract class Authenticator {
  abstract authenticate(request: FastifyRequest): AuthenticationResult;
}

/** Nobody is authenticated: for an app composed without AuthModule (not bound by default). */
@Injectable()
export class NoSignInAuthenticator extends Authenticator {
  authenticate(request: FastifyRequest): AuthenticationResult {
    return {
      authenticated: false,
      reason: request.headers.authorization
        ? 'the credentials presented cannot be accepted: no sign-in method is enabled on this server yet'
        : 'no credentials were presented',
    };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by DenyByDefaultGuard on routes that require authentication. */
    principal?: Principal;
  }
}
