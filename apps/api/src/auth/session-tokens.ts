import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock';
import type { RevokedSessions } from './revoked-sessions';

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
/** Most tokens whose signature check is remembered (see `verified`); beyond it the memory starts over. */
export const MAX_VERIFIED_TOKENS = 10_000;

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
 * Revocation (sign-out) goes to RevokedSessions, a file under CUSTOS_DATA_DIR,
 * so that a signed-out token stays refused after a restart (with a fixed
 * AUTH_TOKEN_SECRET; with a random one every token is void on a restart anyway).
 * A revoked token is remembered only until it would have expired.
 */
export class SessionTokens {
  private readonly key: Buffer;
  /**
   * Tokens whose signature was checked, and their claims: a client sends the same token with every
   * request, and the HMAC, the decoding and the parsing then run once per token, not once per request.
   * Only what never changes for a token is remembered; expiry and revocation are checked every time.
   */
  private readonly verified = new Map<string, SessionClaims>();

  constructor(
    secret: string | undefined,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly revoked: RevokedSessions,
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
    let claims = this.verified.get(token);
    if (!claims) {
      const verified = this.verify(token);
      if (!verified.valid) return verified;
      claims = verified.claims;
      if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.clear();
      this.verified.set(token, claims);
    }
    if (this.clock.now() >= claims.exp * 1000) return refuse('token expired');
    if (this.revoked.has(claims.jti)) return refuse('token revoked');
    return { valid: true, claims };
  }

  /** The signature and the form of a token: what does not change with time. */
  private verify(token: string): TokenCheck {
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
    return { valid: true, claims };
  }

  /** Refuses the token from now until it expires, also after a restart. */
  revoke(claims: SessionClaims): void {
    this.revoked.add(claims.jti, claims.exp * 1000, this.clock.now());
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
