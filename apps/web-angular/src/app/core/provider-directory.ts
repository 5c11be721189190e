import { Injectable, computed, inject, signal } from '@angular/core';

import { shortAddress } from './address';
import { ApiClient } from './api-client';

/** `GET /directory/providers` item: a registered provider and the profile an administrator set. */
export interface ProviderProfile {
  /** Lower-case address. */
  readonly address: string;
  readonly name: string | null;
  readonly specialty: string | null;
}

/**
 * The registered providers (`GET /directory/providers`, every page), to show names instead of
 * addresses. Loaded once and cached; `load(true)` reads again.
 *
 * ```ts
 * await directory.load();
 * directory.displayName(address); // "Dr Ada Lee" or "0x7099…79C8"
 * ```
 */
@Injectable({ providedIn: 'root' })
export class ProviderDirectory {
  private readonly api = inject(ApiClient);
  private readonly byAddress = signal<ReadonlyMap<string, ProviderProfile>>(new Map());
  private loading: Promise<void> | null = null;

  /** Every registered provider, as last loaded. */
  readonly providers = computed(() => [...this.byAddress().values()]);

  /** Loads the directory (once; `force` reads it again). Failures reject and leave the cache as is. */
  load(force = false): Promise<void> {
    if (this.loading && !force) return this.loading;
    const loading = this.api.getAll<ProviderProfile>('/directory/providers').then((items) => {
      this.byAddress.set(new Map(items.map((p) => [p.address.toLowerCase(), p])));
    });
    this.loading = loading;
    loading.catch(() => {
      if (this.loading === loading) this.loading = null;
    });
    return loading;
  }

  /** The provider's profile, when registered. */
  profile(address: string): ProviderProfile | undefined {
    return this.byAddress().get(address.toLowerCase());
  }

  /** The provider's name when their profile has one, else their short address. */
  displayName(address: string): string {
    return this.profile(address)?.name || shortAddress(address);
  }
}
