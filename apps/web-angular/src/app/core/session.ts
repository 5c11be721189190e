import { HttpClient, HttpHeaders } from '@angular/common/http';
import { DestroyRef, Injectable, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';

import { toApiError } from './api-error';

/** The contract's roles, as `GET /auth/me` names them. Everyone signed in is also a patient. */
export type Role = 'admin' | 'provider' | 'emergency' | 'auditor' | 'anchor';

/** `POST /auth/verify` answers this. */
export interface SessionGrant {
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
  /** EIP-55 checksummed. */
  readonly address: string;
}

/** `GET /auth/me` */
export interface MeResponse {
  readonly address: string;
  readonly roles: readonly string[];
}

/** Where the session is: still checking a token kept from before a reload, or settled. */
export type SessionStatus = 'restoring' | 'signed-out' | 'signed-in';

/** Why a session ended. */
export type SessionEndReason = 'signed-out' | 'expired';

interface StoredSession extends SessionGrant {
  readonly roles: readonly Role[];
}

/** sessionStorage key: the token survives reloads of this tab and dies with it. */
export const SESSION_STORAGE_KEY = 'custos.session';

const KNOWN_ROLES: readonly Role[] = ['admin', 'provider', 'emergency', 'auditor', 'anchor'];

/**
 * Who is signed in: address, Bearer token and roles, as signals.
 *
 * - `start(grant)` after `POST /auth/verify` (see `SignIn`), then roles are read from `GET /auth/me`;
 * - the token is kept in sessionStorage, so a reload keeps you signed in: on startup the session is
 *   `restoring` until `GET /auth/me` confirms the token (`ready` resolves then);
 * - `signOut()` revokes the token (`POST /auth/sign-out`) and forgets it; `end('expired')` forgets it
 *   and sends the user to `/sign-in?returnUrl=…` (the API client calls it on a 401).
 *
 * Roles are the contract's and may change while signed in: call `refreshRoles()` to read them again.
 */
@Injectable({ providedIn: 'root' })
export class Session {
  private readonly http = inject(HttpClient);
  private readonly router = inject(Router);
  private readonly state = signal<StoredSession | null>(null);
  private readonly endListeners = new Set<(reason: SessionEndReason) => void>();
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  /** `restoring` at startup while a kept token is checked, then `signed-in` or `signed-out`. */
  readonly status = signal<SessionStatus>('signed-out');
  readonly signedIn = computed(() => this.status() === 'signed-in');
  /** EIP-55 checksummed address of the signed-in account. */
  readonly address = computed(() => this.state()?.address ?? null);
  /** The Bearer token (also set while `restoring`). */
  readonly token = computed(() => this.state()?.token ?? null);
  /** The account's roles on the chain, from `GET /auth/me`. Empty for a patient. */
  readonly roles = computed<readonly Role[]>(() => this.state()?.roles ?? []);
  /** Why the last session ended, until the next sign-in. */
  readonly endReason = signal<SessionEndReason | null>(null);

  /** Resolves once a token kept from before a reload has been checked (at once if there was none). */
  readonly ready: Promise<void>;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.expiryTimer));
    const kept = readStorage();
    if (kept && Date.parse(kept.expiresAt) > Date.now()) {
      this.state.set(kept);
      this.status.set('restoring');
      this.ready = this.restore();
    } else {
      if (kept) writeStorage(null);
      this.ready = Promise.resolve();
    }
  }

  /** True when the signed-in account holds `role` (as last read from the API). */
  hasRole(role: Role): boolean {
    return this.roles().includes(role);
  }

  /** Begins a session with the answer of `POST /auth/verify`, then reads the account's roles. */
  async start(grant: SessionGrant): Promise<void> {
    this.endReason.set(null);
    this.state.set({ ...grant, roles: [] });
    this.status.set('signed-in');
    this.persist();
    this.scheduleExpiry(grant.expiresAt);
    try {
      await this.refreshRoles();
    } catch {
      // Roles unknown for now (API hiccup): the patient view works; refreshRoles() can try again.
    }
  }

  /**
   * Reads the roles again (`GET /auth/me`). A 401 ends the session; any other failure keeps the
   * roles known so far and rethrows an `ApiError`.
   */
  async refreshRoles(): Promise<void> {
    const token = this.token();
    if (!token) return;
    try {
      await this.loadRoles(token);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status === 401 && this.token() === token) {
        this.end('expired');
        return;
      }
      throw apiError;
    }
  }

  /** Revokes the token on the API (best effort) and forgets it here. */
  async signOut(): Promise<void> {
    const token = this.token();
    this.clear('signed-out');
    if (!token) return;
    try {
      await firstValueFrom(
        this.http.post('/auth/sign-out', null, {
          headers: new HttpHeaders({ Authorization: `Bearer ${token}` }),
        }),
      );
    } catch {
      // The token is forgotten here anyway and expires on its own.
    }
  }

  /**
   * Forgets the session without asking the API (it already refused the token, or it expired) and, for
   * `expired`, sends the user to the sign-in page with a way back to where they were.
   */
  end(reason: SessionEndReason): void {
    if (!this.state()) return;
    this.clear(reason);
    if (reason === 'expired') {
      const current = this.router.url;
      if (!current.startsWith('/sign-in')) {
        void this.router.navigate(['/sign-in'], { queryParams: { returnUrl: current, reason: 'expired' } });
      }
    }
  }

  /** Called whenever a session ends (sign-out or expiry); returns a function that unsubscribes. */
  onEnd(listener: (reason: SessionEndReason) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  private async restore(): Promise<void> {
    const token = this.token()!;
    try {
      await this.loadRoles(token);
    } catch (error) {
      if (toApiError(error).status === 401) {
        // The API no longer accepts it: signed out, quietly (the route guard asks to sign in).
        if (this.token() === token) this.clear('expired');
        return;
      }
      // API unreachable: keep the session and the roles known before the reload; calls will tell.
    }
    const current = this.state();
    if (current?.token === token) {
      this.status.set('signed-in');
      this.scheduleExpiry(current.expiresAt);
    }
  }

  private async loadRoles(token: string): Promise<void> {
    const me = await firstValueFrom(
      this.http.get<MeResponse>('/auth/me', {
        headers: new HttpHeaders({ Authorization: `Bearer ${token}` }),
      }),
    );
    const current = this.state();
    if (!current || current.token !== token) return; // signed out meanwhile
    const roles = me.roles.filter((r): r is Role => (KNOWN_ROLES as readonly string[]).includes(r));
    this.state.set({ ...current, roles });
    this.persist();
  }

  private clear(reason: SessionEndReason): void {
    clearTimeout(this.expiryTimer);
    this.state.set(null);
    this.status.set('signed-out');
    this.endReason.set(reason);
    writeStorage(null);
    for (const listener of this.endListeners) listener(reason);
  }

  private persist(): void {
    writeStorage(this.state());
  }

  private scheduleExpiry(expiresAt: string): void {
    clearTimeout(this.expiryTimer);
    const left = Date.parse(expiresAt) - Date.now();
    if (!Number.isFinite(left)) return;
    // setTimeout holds at most ~24.8 days; a longer session is re-checked by the API anyway.
    this.expiryTimer = setTimeout(() => this.end('expired'), Math.min(Math.max(left, 0), 2_147_000_000));
  }
}

function readStorage(): StoredSession | null {
  try {
    const text = globalThis.sessionStorage?.getItem(SESSION_STORAGE_KEY);
    if (!text) return null;
    const value = JSON.parse(text) as Partial<StoredSession>;
    if (
      typeof value.token !== 'string' ||
      typeof value.address !== 'string' ||
      typeof value.expiresAt !== 'string'
    ) {
      return null;
    }
    const roles = Array.isArray(value.roles)
      ? value.roles.filter((r): r is Role => (KNOWN_ROLES as readonly string[]).includes(r))
      : [];
    return { token: value.token, address: value.address, expiresAt: value.expiresAt, roles };
  } catch {
    return null;
  }
}

function writeStorage(value: StoredSession | null): void {
  try {
    if (value) globalThis.sessionStorage?.setItem(SESSION_STORAGE_KEY, JSON.stringify(value));
    else globalThis.sessionStorage?.removeItem(SESSION_STORAGE_KEY);
  } catch {
    // Storage disabled (private mode): the session lasts until the page is reloaded.
  }
}
