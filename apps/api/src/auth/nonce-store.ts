import { randomBytes } from 'node:crypto';
import { ServiceUnavailableException } from '@nestjs/common';
import type { Clock } from './clock';

/** Most nonces outstanding at once; beyond it /auth/nonce answers 503 until some expire or are used. */
export const MAX_OUTSTANDING_NONCES = 10_000;

export interface IssuedNonce {
  readonly nonce: string;
  /** Milliseconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export type NonceUse = 'ok' | 'unknown' | 'expired';

/**
 * The Sign-In with Ethereum nonces handed out and not yet used: each is random
 * (128 bits from the CSPRNG), good for one verify attempt, and expires after
 * SIWE_NONCE_TTL.
 *
 * Kept in memory on purpose: a nonce lives a few minutes, and one lost on a
 * restart (or held by another instance) only means the user signs in again.
 * Nothing else depends on it. Bounded: expired nonces are evicted when new ones
 * are issued, and at most MAX_OUTSTANDING_NONCES are outstanding.
 */
export class NonceStore {
  /** nonce → expiry (ms). Insertion order is issue order, so the oldest expire first. */
  private readonly outstanding = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly capacity: number = MAX_OUTSTANDING_NONCES,
  ) {}

  /** Nonces currently outstanding (expired ones included until evicted). */
  get size(): number {
    return this.outstanding.size;
  }

  issue(): IssuedNonce {
    const now = this.clock.now();
    this.evictExpired(now);
    if (this.outstanding.size >= this.capacity) {
      throw new ServiceUnavailableException('Too many sign-ins are in progress; try again in a minute.');
    }
    // 32 hex characters: alphanumeric and at least 8 long, as EIP-4361 requires.
    const nonce = randomBytes(16).toString('hex');
    const expiresAt = now + this.ttlMs;
    this.outstanding.set(nonce, expiresAt);
    return { nonce, issuedAt: now, expiresAt };
  }

  /**
   * Uses up a nonce: whatever the answer, the nonce cannot be used again, so
   * a failed sign-in attempt cannot be retried with it.
   */
  consume(nonce: string): NonceUse {
    const expiresAt = this.outstanding.get(nonce);
    if (expiresAt === undefined) return 'unknown';
    this.outstanding.delete(nonce);
    return this.clock.now() >= expiresAt ? 'expired' : 'ok';
  }

  private evictExpired(now: number): void {
    // Every nonce gets the same lifetime, so expiries grow with insertion order:
    // stop at the first one still valid.
    for (const [nonce, expiresAt] of this.outstanding) {
      if (expiresAt > now) break;
      this.outstanding.delete(nonce);
    }
  }
}
