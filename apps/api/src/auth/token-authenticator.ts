import { Injectable } from '@nestjs/common';
import { getAddress } from 'ethers';
import type { FastifyRequest } from 'fastify';
import { type AuthenticationResult, Authenticator } from '../security/authenticator';
import { type SessionClaims, SessionTokens } from './session-tokens';

const BEARER = /^Bearer +(\S+) *$/i;
/** Most addresses whose EIP-55 spelling is remembered; beyond it the memory starts over. */
const MAX_CHECKSUMMED_ADDRESSES = 10_000;

/**
 * The Authenticator once sign-in exists: accepts `Authorization: Bearer <token>`
 * with a session token issued by POST /auth/verify that is unexpired and not
 * signed out. Synchronous (no I/O), as the port requires.
 *
 * The principal's roles are left empty here: RolesGuard looks them up at request
 * time, so that they reflect the chain now rather than at sign-in.
 */
@Injectable()
export class TokenAuthenticator extends Authenticator {
  /** Lower-case address → EIP-55 spelling: getAddress hashes (keccak-256) on every call. */
  private readonly checksummed = new Map<string, string>();

  constructor(private readonly tokens: SessionTokens) {
    super();
  }

  authenticate(request: FastifyRequest): AuthenticationResult {
    const token = bearerToken(request);
    if (token === undefined) return { authenticated: false, reason: 'no credentials were presented' };
    if (token === null)
      return { authenticated: false, reason: 'malformed token (expected "Authorization: Bearer <token>")' };
    const check = this.tokens.check(token);
    if (!check.valid) return { authenticated: false, reason: check.reason };
    return { authenticated: true, principal: { address: this.checksum(check.claims.sub), roles: [] } };
  }

  /** The claims of the request's token, if it is currently valid (for sign-out). */
  sessionOf(request: FastifyRequest): SessionClaims | undefined {
    const token = bearerToken(request);
    if (!token) return undefined;
    const check = this.tokens.check(token);
    return check.valid ? check.claims : undefined;
  }

  private checksum(address: string): string {
    let spelled = this.checksummed.get(address);
    if (spelled === undefined) {
      spelled = getAddress(address);
      if (this.checksummed.size >= MAX_CHECKSUMMED_ADDRESSES) this.checksummed.clear();
      this.checksummed.set(address, spelled);
    }
    return spelled;
  }
}

/** The Bearer token; undefined without an Authorization header, null when it is not a Bearer token. */
function bearerToken(request: FastifyRequest): string | null | undefined {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return undefined;
  return BEARER.exec(header)?.[1] ?? null;
}
