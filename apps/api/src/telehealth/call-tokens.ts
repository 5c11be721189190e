import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CONSULTATION_INVITEE_ROLES, type ConsultationRole } from '@custos/domain';

/** What a call token binds: one participant, in one role, to one consultation, until `exp`. */
export interface CallTokenClaims {
  /** The consultation (session) id. */
  sid: string;
  /** The participant's lower-case address. */
  sub: string;
  role: ConsultationRole;
  /** Unix seconds. */
  exp: number;
}

export type CallTokenCheck =
  | { valid: true; claims: CallTokenClaims }
  | { valid: false; reason: 'malformed token' | 'bad signature' | 'token expired' };

// The version is part of what is signed: a token of another format never verifies.
const VERSION = 'ct1';
const MAX_TOKEN_LENGTH = 512;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ROLES: ReadonlySet<string> = new Set<ConsultationRole>(['patient', ...CONSULTATION_INVITEE_ROLES]);

/**
 * The short-lived tokens of the built-in WebRTC signalling: `ct1.<claims>.<HMAC-SHA256>`, base64url.
 * The key is derived from AUTH_TOKEN_SECRET under its own label (so a call token is never a session
 * token, nor the reverse), or random per process when that is unset, like the session tokens. No new
 * secret to configure; a restart with a random key voids the open tokens, which live minutes anyway.
 */
export class CallTokens {
  private readonly key: Buffer;

  constructor(secret: string | undefined) {
    this.key =
      secret === undefined
        ? randomBytes(32)
        : createHmac('sha256', Buffer.from(secret, 'utf8')).update('custos/call-token/v1').digest();
  }

  issue(claims: CallTokenClaims): string {
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${VERSION}.${payload}.${this.sign(payload).toString('base64url')}`;
  }

  check(token: string, nowSeconds: number): CallTokenCheck {
    if (token.length > MAX_TOKEN_LENGTH) return { valid: false, reason: 'malformed token' };
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION || !parts.slice(1).every((p) => SEGMENT.test(p))) {
      return { valid: false, reason: 'malformed token' };
    }
    const [, payload, signature] = parts as [string, string, string];
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== 32 || given.toString('base64url') !== signature) {
      return { valid: false, reason: 'malformed token' };
    }
    if (!timingSafeEqual(given, this.sign(payload))) return { valid: false, reason: 'bad signature' };
    const claims = parseClaims(payload);
    if (!claims) return { valid: false, reason: 'malformed token' };
    if (nowSeconds >= claims.exp) return { valid: false, reason: 'token expired' };
    return { valid: true, claims };
  }

  private sign(payload: string): Buffer {
    return createHmac('sha256', this.key).update(`${VERSION}.${payload}`).digest();
  }
}

function parseClaims(payload: string): CallTokenClaims | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { sid, sub, role, exp } = value as Record<string, unknown>;
  if (typeof sid !== 'string' || !UUID.test(sid)) return null;
  if (typeof sub !== 'string' || !ADDRESS.test(sub)) return null;
  if (typeof role !== 'string' || !ROLES.has(role)) return null;
  if (!Number.isSafeInteger(exp)) return null;
  return { sid, sub, role: role as ConsultationRole, exp: exp as number };
}
