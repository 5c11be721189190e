import { Injectable, inject } from '@angular/core';
import type { CategoryName } from '@custos/chain/categories';

import { ApiClient, type Page } from '../core/api-client';

/** `GET /patients/me/consents` item: one grant I gave, its status computed by the API now. */
export interface ConsentGrant {
  readonly provider: string;
  readonly providerName: string | null;
  readonly providerSpecialty: string | null;
  readonly category: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  readonly status: 'active' | 'expired' | 'revoked';
  readonly grantedAt: string;
  readonly revokedAt: string | null;
}

/** `GET /consent-requests` item: a provider asking me for one category. */
export interface ConsentRequest {
  readonly id: string;
  readonly patient: string;
  readonly provider: string;
  readonly category: string;
  readonly purpose: string;
  readonly durationSeconds: number;
  readonly requestedAt: string;
  readonly status: 'pending' | 'declined' | 'granted';
}

/** `GET /audit/me` item: one decision about access to my data. */
export interface AuditEntry {
  readonly id: string;
  readonly sequence: number;
  readonly occurredAt: string;
  /** Lower-case address, or `anonymous`. */
  readonly actor: string;
  readonly patient: string | null;
  readonly resource: string;
  readonly action: string;
  readonly purpose: string | null;
  readonly outcome: 'allowed' | 'denied';
  readonly reason: string;
}

/** `GET /notifications/me` item. `subject` depends on `kind`. */
export interface AppNotification {
  readonly id: string;
  readonly recipient: string;
  readonly kind: string;
  readonly subject: Readonly<Record<string, string | number | null>>;
  readonly occurredAt: string;
}

/** `GET /chain/signing-context`: the EIP-712 domain's chain and contract, and my next nonce. */
export interface SigningContext {
  readonly chainId: number;
  readonly contract: string;
  readonly nonce: number;
}

/** `POST /consents/grants` */
export interface SignedGrantBody {
  readonly patient: string;
  readonly provider: string;
  readonly category: CategoryName;
  readonly expiresAt: number;
  readonly deadline: number;
  readonly signature: string;
}

/** `POST /consents/revocations` */
export interface SignedRevokeBody {
  readonly patient: string;
  readonly provider: string;
  readonly category: CategoryName;
  readonly deadline: number;
  readonly signature: string;
}

/** `202` of the relay routes. */
export interface RelayAccepted {
  readonly id: string;
  readonly status: 'submitted';
}

/** `GET /consents/relays/:id` */
export interface RelayStatus {
  readonly id: string;
  readonly kind: 'grant' | 'revoke';
  readonly status: 'submitted' | 'mined' | 'confirmed' | 'failed';
  readonly txHash: string | null;
  readonly blockNumber: number | null;
  readonly reason: string | null;
}

/** The patient's API routes, typed. */
@Injectable({ providedIn: 'root' })
export class PatientApi {
  private readonly api = inject(ApiClient);

  /** Every grant I gave (active, expired, revoked). */
  consents(): Promise<ConsentGrant[]> {
    return this.api.get<ConsentGrant[]>('/patients/me/consents');
  }

  /** Requests addressed to me that wait for an answer, newest first. */
  pendingRequests(): Promise<ConsentRequest[]> {
    return this.api.getAll<ConsentRequest>('/consent-requests', { status: 'pending' });
  }

  decline(requestId: string): Promise<void> {
    return this.api.post(`/consent-requests/${encodeURIComponent(requestId)}/decline`);
  }

  accessLog(cursor?: string, limit = 50): Promise<Page<AuditEntry>> {
    return this.api.get<Page<AuditEntry>>('/audit/me', { cursor, limit });
  }

  notifications(cursor?: string, limit = 50): Promise<Page<AppNotification>> {
    return this.api.get<Page<AppNotification>>('/notifications/me', { cursor, limit });
  }

  signingContext(): Promise<SigningContext> {
    return this.api.get<SigningContext>('/chain/signing-context');
  }

  submitGrant(body: SignedGrantBody): Promise<RelayAccepted> {
    return this.api.post<RelayAccepted>('/consents/grants', body);
  }

  submitRevoke(body: SignedRevokeBody): Promise<RelayAccepted> {
    return this.api.post<RelayAccepted>('/consents/revocations', body);
  }

  /** My consents as a FHIR R4 Bundle of Consent resources (a file to download). */
  consentsFhir(): Promise<Blob> {
    return this.api.getBlob('/consents/fhir');
  }

  relay(id: string): Promise<RelayStatus> {
    return this.api.get<RelayStatus>(`/consents/relays/${encodeURIComponent(id)}`);
  }
}
