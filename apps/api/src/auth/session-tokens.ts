import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ServiceUnavailableException } from '@nestjs/common';
import type { Clock } from './clock';

/** The claims of a session token (a compact JWT, HS256). Times in seconds since the epoch. */
export interface SessionClaims {
  /** Lower-case wallet address. */
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  /** Random id, what sign-out revokes. */
  readonly jti: string;
}

export type TokenRefusal = 'malformed token' | 'bad signature' | 'token expired' | 'token revoked';

export type TokenCheck =
  | { readonly valid: true; readonly claims: SessionClaims }
  | { readonly valid: false; readonly reason: TokenRefusal };

export interface IssuedToken {
  readonly token: string;
  readonly claims: SessionClaims;
}

/** Longer tokens are refused before any work (ours are about 250 characters). */
export const MAX_TOKEN_LENGTH = 1024;
/** Most revoked, unexpired tokens remembered at once; beyond it sign-out answers 503. */
export const MAX_REVOKED_TOKENS = 100_000;

// The only header issued and accepted: no algorithm negotiation ("alg": "none", RS256 confusion).
const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;
const JTI = /^[0-9a-f]{32}$/;

/**
 * Issues and checks the Bearer session tokens handed out at sign-in: HMAC-SHA256
 * over AUTH_TOKEN_SECRET (a random secret per process when unset, so tokens then
 * do not survive a restart), lifetime AUTH_TOKEN_TTL. Checking is synchronous and
 * needs no I/O, as the Authenticator port requires.
 *
 * Revocation (sign-out) is kept in memory: tokens are short-lived, a revoked
 * token is remembered only until it would have expired anyway, and on a restart
 * with a random secret every token is void regardless. With a fixed
 * AUTH_TOKEN_SECRET and several instances, a sign-out is only known to the
 * instance that received it: a shared revocation list would be needed then.
 */
export class SessionTokens {
  private readonly key: Buffer;
  /** jti → expiry (ms) of revoked tokens, until they expire. */
  private readonly revoked = new Map<string, number>();

  constructor(
    secret: string | undefined,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly maxRevoked: number = MAX_REVOKED_TOKENS,
  ) {
    this.key = secret === undefined ? randomBytes(48) : Buffer.from(secret, 'utf8');
  }

  issue(address: string): IssuedToken {
    const now = this.clock.now();
    const claims: SessionClaims = {
      sub: address.toLowerCase(),
      iat: Math.floor(now / 1000),
      exp: Math.floor((now + this.ttlMs) / 1000),
      jti: randomBytes(16).toString('hex'),
    };
    const unsigned = `${HEADER}.${base64url(JSON.stringify(claims))}`;
    return { token: `${unsigned}.${this.sign(unsigned).toString('base64url')}`, claims };
  }

  check(token: string): TokenCheck {
    if (token.length > MAX_TOKEN_LENGTH) return refuse('malformed token');
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) return refuse('malformed token');
    const [header, payload, signature] = parts as [string, string, string];
    if (header !== HEADER) return refuse('malformed token');

    const given = Buffer.from(signature, 'base64url');
    // Only the canonical encoding of a 32-byte MAC: no alternative spellings of one signature.
    if (given.length !== 32 || given.toString('base64url') !== signature) return refuse('malformed token');
    if (!timingSafeEqual(given, this.sign(`${header}.${payload}`))) return refuse('bad signature');

    const claims = parseClaims(payload);
    if (!claims) return refuse('malformed token'); // signed by us, so not expected to happen
    if (this.clock.now() >= claims.exp * 1000) return refuse('token expired');
    if (this.revoked.has(claims.jti)) return refuse('token revoked');
    return { valid: true, claims };
  }

  /** Refuses the token from now until it expires. */
  revoke(claims: SessionClaims): void {
    const now = this.clock.now();
    if (this.revoked.size >= this.maxRevoked / 2) {
      for (const [jti, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(jti);
    }
    if (this.revoked.size >= this.maxRevoked) {
      throw new ServiceUnavailableException('Too many sign-outs at once; try again in a minute.');
    }
    this.revoked.set(claims.jti, claims.exp * 1000);
  }

  private sign(unsigned: string): Buffer {
    return createHmac('sha256', this.key).update(unsigned).digest();
  }
}

function refuse(reason: TokenRefusal): TokenCheck {
  return { valid: false, reason };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function parseClaims(payload: string): SessionClaims | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { sub, iat, exp, jti } = value as Record<string, unknown>;
  if (typeof sub !== 'string' || !ADDRESS.test(sub)) return undefined;
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return undefined;
  if (typeof jti !== 'string' || !JTI.test(jti)) return undefined;
  return { sub, iat: iat as number, exp: exp as number, jti };
}
