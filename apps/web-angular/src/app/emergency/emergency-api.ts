import { Injectable, inject } from '@angular/core';

import { ApiClient } from '../core/api-client';

/** The shortest and longest reason the API takes for an emergency access. */
export const REASON_MIN_LENGTH = 10;
export const REASON_MAX_LENGTH = 2000;

/** Emergency staff's API routes, typed. */
@Injectable({ providedIn: 'root' })
export class EmergencyApi {
  private readonly api = inject(ApiClient);

  /**
   * Records why break-glass access is needed (kept off-chain, audited, the patient notified); returns
   * the reason's hash for the contract's `emergencyAccess(patient, reasonHash)`.
   */
  declareReason(patient: string, reason: string): Promise<{ reasonHash: string }> {
    return this.api.post<{ reasonHash: string }>('/emergency/reasons', { patient, reason });
  }
}
