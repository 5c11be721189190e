import { Injectable, inject } from '@angular/core';

import { ApiClient, type Page } from '../core/api-client';

/** `GET /audit` item: one gate decision (allowed or denied). */
export interface AuditEntry {
  readonly id: string;
  /** Its audit position (the revision in the `audit` stream): what anchors cover. */
  readonly sequence: number;
  /** ISO 8601. */
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

/** The filters `GET /audit` takes (addresses; times RFC 3339, `to` exclusive). */
export interface AuditFilter {
  readonly patient?: string;
  readonly actor?: string;
  readonly from?: string;
  readonly to?: string;
}

/** `GET /audit/replay`: who had access to the patient's data at `asOf`. */
export interface ReplayedAccess {
  readonly asOf: string;
  readonly patient: string;
  readonly grants: readonly {
    readonly provider: string;
    readonly category: string;
    readonly expiresAt: number;
  }[];
  readonly emergencyWindows: readonly {
    readonly provider: string;
    readonly expiresAt: number;
    readonly reasonHash: string;
    readonly reason: string | null;
  }[];
}

/** `GET /audit/proof/:id`: an audit event's Merkle inclusion proof and its anchoring transaction. */
export interface AuditProof {
  readonly eventId: string;
  readonly position: number;
  readonly eventHash: string;
  readonly leaf: string;
  readonly proof: readonly string[];
  readonly root: string;
  readonly fromPosition: number;
  readonly toPosition: number;
  readonly leafEncoding: { readonly version: string; readonly types: readonly string[] };
  readonly anchor: {
    readonly chainId: number;
    readonly contract: string;
    readonly transactionHash: string | null;
    readonly blockNumber: number | null;
    readonly anchoredAt: string;
  };
}

/** `GET /audit/verification`: every anchored range checked against the event store. */
export interface AnchorVerificationReport {
  readonly ok: boolean;
  readonly checkedAt: string;
  readonly chainBlock: number;
  readonly anchoredRanges: number;
  readonly verifiedRanges: number;
  readonly anchoredEvents: number;
  readonly unanchoredEvents: number;
  readonly firstMismatch: {
    readonly position: number;
    readonly eventId: string | null;
    readonly fromPosition: number;
    readonly toPosition: number;
    readonly anchoredRoot: string;
    readonly reason: string;
  } | null;
}

/** One side of a drift comparison. */
export interface ConsentSideView {
  readonly active: boolean;
  /** Unix seconds; null when that side knows no grant. */
  readonly expiresAt: number | null;
}

/** `GET /compliance/drift`: the consent projection against the contract. */
export interface DriftReport {
  readonly checkedPairs: number;
  readonly differences: readonly {
    readonly patient: string;
    readonly provider: string;
    readonly category: string;
    readonly projection: ConsentSideView;
    readonly chain: ConsentSideView;
    readonly detectedAt: string;
  }[];
  readonly checkedAt: string;
  readonly chainBlock: number;
}

/** The export formats of `GET /audit?format=`. */
export type ExportFormat = 'csv' | 'fhir';

/** The compliance officer's API routes, typed. Every read is itself audited by the API. */
@Injectable({ providedIn: 'root' })
export class ComplianceApi {
  private readonly api = inject(ApiClient);

  search(filter: AuditFilter, cursor?: string, limit = 100): Promise<Page<AuditEntry>> {
    return this.api.get<Page<AuditEntry>>('/audit', { ...filter, cursor, limit });
  }

  replay(patient: string, asOf: string): Promise<ReplayedAccess> {
    return this.api.get<ReplayedAccess>('/audit/replay', { asOf, patient });
  }

  proof(eventId: string): Promise<AuditProof> {
    return this.api.get<AuditProof>(`/audit/proof/${encodeURIComponent(eventId)}`);
  }

  verification(): Promise<AnchorVerificationReport> {
    return this.api.get<AnchorVerificationReport>('/audit/verification');
  }

  drift(): Promise<DriftReport> {
    return this.api.get<DriftReport>('/compliance/drift');
  }

  /** The filtered trail as a file (`csv`, or a FHIR R4 Bundle of AuditEvents and Consents). */
  export(filter: AuditFilter, format: ExportFormat): Promise<Blob> {
    return this.api.getBlob('/audit', { ...filter, format });
  }
}
