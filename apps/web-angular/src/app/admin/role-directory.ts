import { DestroyRef, Injectable, type Signal, type WritableSignal, inject, signal } from '@angular/core';

import { sameAddress } from '../core/address';
import { toApiError } from '../core/api-client';
import { CHAIN_POLL_INTERVAL, sleep } from '../core/contract-transactions';
import { AdminApi, type DirectoryAccount, type ManagedRole } from './admin-api';

export interface RoleList {
  readonly status: 'loading' | 'ready' | 'error';
  readonly accounts: readonly DirectoryAccount[];
  readonly error: string | null;
}

/** How long to wait for the chain mirror to show a role change before saying so (ms). */
export const MIRROR_WAIT_LIMIT = 60_000;

/**
 * The accounts holding each role (`GET /directory/accounts?role=`), shared by the admin console's
 * parts (provided by the admin page). A role change is on the chain first; `waitFor` polls the list
 * until the chain mirror has seen it.
 */
@Injectable()
export class RoleDirectory {
  private readonly api = inject(AdminApi);
  private readonly pollInterval = inject(CHAIN_POLL_INTERVAL);
  private readonly abort = new AbortController();
  private readonly lists: Record<ManagedRole, WritableSignal<RoleList>> = {
    provider: signal(initial()),
    emergency: signal(initial()),
    auditor: signal(initial()),
    admin: signal(initial()),
  };

  constructor() {
    inject(DestroyRef).onDestroy(() => this.abort.abort());
  }

  list(role: ManagedRole): Signal<RoleList> {
    return this.lists[role].asReadonly();
  }

  /** Reads the role's accounts; `quiet` keeps the current list on screen while reading. */
  async load(role: ManagedRole, quiet = false): Promise<void> {
    const list = this.lists[role];
    if (!quiet) list.update((l) => ({ ...l, status: 'loading' }));
    try {
      const accounts = await this.api.accounts(role);
      list.set({ status: 'ready', accounts, error: null });
    } catch (error) {
      const message = toApiError(error).message;
      if (quiet && list().status === 'ready') throw error;
      list.set({ status: 'error', accounts: [], error: message });
    }
  }

  /** True when the last loaded list of `role` holds `address`. */
  holds(role: ManagedRole, address: string): boolean {
    return this.lists[role]().accounts.some((a) => sameAddress(a.address, address));
  }

  /**
   * Polls the role's list until `address` is in it (`present`) or gone; `false` after the wait limit.
   */
  async waitFor(
    role: ManagedRole,
    address: string,
    present: boolean,
    limitMs = MIRROR_WAIT_LIMIT,
  ): Promise<boolean> {
    const started = Date.now();
    while (!this.abort.signal.aborted) {
      try {
        await this.load(role, true);
        if (this.holds(role, address) === present) return true;
      } catch {
        // A failed read while waiting: try again at the next tick.
      }
      if (Date.now() - started > limitMs) return false;
      await sleep(this.pollInterval, this.abort.signal);
    }
    return false;
  }
}

function initial(): RoleList {
  return { status: 'loading', accounts: [], error: null };
}
