import { Injectable, inject } from '@angular/core';

import { ApiClient } from '../core/api-client';
import type { ManagedRole } from '../core/contract-abi';

export type { ManagedRole } from '../core/contract-abi';

/** `GET /directory/accounts` item: an account holding the role on the chain, with its profile. */
export interface DirectoryAccount {
  /** Lower-case address. */
  readonly address: string;
  readonly roles: readonly string[];
  readonly name: string | null;
  readonly specialty: string | null;
}

/** `GET /chain/status`: chain health for the administrator. */
export interface ChainStatus {
  readonly chainId: number;
  readonly contract: string | null;
  readonly headBlock: number | null;
  readonly paused: boolean | null;
  readonly mirror: {
    readonly state: string;
    readonly mirroredBlock: number | null;
    readonly lagBlocks: number | null;
  } | null;
  readonly relayer: { readonly address: string | null; readonly balanceWei: string | null };
}

/** Longest profile name and specialty the API takes. */
export const NAME_MAX_LENGTH = 100;
export const SPECIALTY_MAX_LENGTH = 100;

/** The administrator's API routes, typed. */
@Injectable({ providedIn: 'root' })
export class AdminApi {
  private readonly api = inject(ApiClient);

  /** Every account holding `role`, as the chain mirror has seen it. */
  accounts(role: ManagedRole): Promise<DirectoryAccount[]> {
    return this.api.getAll<DirectoryAccount>('/directory/accounts', { role });
  }

  /** The name and specialty shown for a provider, emergency staff member or auditor. */
  setProfile(address: string, name: string, specialty: string): Promise<void> {
    return this.api.put(`/directory/${encodeURIComponent(address.toLowerCase())}/profile`, {
      name,
      specialty,
    });
  }

  chainStatus(): Promise<ChainStatus> {
    return this.api.get<ChainStatus>('/chain/status');
  }
}

/** Wei (a decimal string) as ETH with at most `decimals` decimals: `9999.9876 ETH`. */
export function formatEth(wei: string | null, decimals = 4): string {
  if (wei === null) return 'unknown';
  let value: bigint;
  try {
    value = BigInt(wei);
  } catch {
    return 'unknown';
  }
  const negative = value < 0n;
  if (negative) value = -value;
  const base = 10n ** 18n;
  const whole = value / base;
  const scale = 10n ** BigInt(decimals);
  const fraction = ((value % base) * scale) / base;
  const fractionText = fraction.toString().padStart(decimals, '0').replace(/0+$/, '');
  const wholeText = whole.toLocaleString('en-US');
  return `${negative ? '-' : ''}${wholeText}${fractionText ? `.${fractionText}` : ''} ETH`;
}
