import { Injectable, inject } from '@angular/core';
import type { CategoryName } from '@custos/chain/categories';

import { ApiClient } from '../core/api-client';

// Mirrors of libs/domain/src/consent.ts (the domain library is not part of the web build).
/** The shortest access a provider may ask for (1 hour) and the longest grant (365 days). */
export const MIN_REQUEST_SECONDS = 60 * 60;
export const MAX_GRANT_SECONDS = 365 * 24 * 60 * 60;
/** A request's purpose: 3 to 500 characters. */
export const PURPOSE_MIN_LENGTH = 3;
export const PURPOSE_MAX_LENGTH = 500;

/** `GET /providers/me/patients` item: a patient's grant to me, active now. */
export interface PatientGrant {
  /** Lower-case address. */
  readonly patient: string;
  readonly category: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  readonly grantedAt: string;
}

/** `POST /consent-requests` */
export interface ConsentRequestBody {
  readonly patient: string;
  readonly category: CategoryName;
  readonly purpose: string;
  readonly durationSeconds: number;
}

/** `GET /consent-requests?as=provider` item: a request I made. */
export interface SentConsentRequest {
  readonly id: string;
  readonly patient: string;
  readonly provider: string;
  readonly category: string;
  readonly purpose: string;
  readonly durationSeconds: number;
  readonly requestedAt: string;
  readonly status: 'pending' | 'declined' | 'granted';
}

/** The provider's own routes, typed. Errors reject with an `ApiError`. */
@Injectable({ providedIn: 'root' })
export class ProviderApi {
  private readonly api = inject(ApiClient);

  /** Patients whose grant to me is active now, soonest expiry first. */
  patients(): Promise<PatientGrant[]> {
    return this.api.getAll<PatientGrant>('/providers/me/patients');
  }

  requestAccess(body: ConsentRequestBody): Promise<{ id: string }> {
    return this.api.post<{ id: string }>('/consent-requests', body);
  }

  /** The requests I made, newest first. */
  sentRequests(): Promise<SentConsentRequest[]> {
    return this.api.getAll<SentConsentRequest>('/consent-requests', { as: 'provider' }, 100, 2);
  }
}
