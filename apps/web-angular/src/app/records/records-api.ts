import { Injectable, inject } from '@angular/core';

import { ApiClient, type Page } from '../core/api-client';
import { blobBytes } from './blob-bytes';

/** A record's title, media type and file name, sealed with the record key (base64url). */
export interface SealedMetadata {
  readonly iv: string;
  readonly ciphertext: string;
}

/** `GET /records` item: one encrypted record (addresses lower-case, newest first). */
export interface RecordView {
  /** 0x bytes32: `recordIdOf(cid)`, the on-chain id. */
  readonly id: string;
  readonly patient: string;
  /** IPFS CIDv1 of the ciphertext. */
  readonly cid: string;
  readonly category: string;
  /** Ciphertext bytes. */
  readonly size: number;
  readonly supersedes: string | null;
  readonly supersededBy: string | null;
  readonly status: 'pending' | 'registered' | 'failed';
  readonly submittedAt: string;
  readonly registeredAt: string | null;
  readonly metadata: SealedMetadata;
}

/** `GET /records/:id`: the record and its amendment chain (ids, oldest first). */
export interface RecordDetail extends RecordView {
  readonly history: readonly string[];
}

/** A record key wrapped (ECIES, libs/e2ee `wrapKey`) for one reader. */
export interface WrappedRecordKey {
  readonly recipient: string;
  readonly wrappedKey: string;
}

/** `GET /records/:id/key`: the record key wrapped for the caller. */
export interface RecordKeyView extends WrappedRecordKey {
  readonly recordId: string;
}

/** `GET /records/key-requests` item: someone who may read a record now but has no wrapped key yet. */
export interface RecordKeyRequest {
  readonly recordId: string;
  readonly category: string;
  readonly recipient: string;
  /** As the API offers it; the key used is the one checked against its wallet signature. */
  readonly publicKey: string;
}

/** `GET /records/recipients?category=` item: who must receive the key of a new record. */
export interface RecordRecipient {
  readonly recipient: string;
  readonly publicKey: string;
  readonly role: string;
}

/** `POST /records/blobs`: where the server stored the ciphertext (it computes the CID itself). */
export interface StoredBlob {
  readonly cid: string;
  readonly size: number;
}

/** `POST /records`: the record and the patient's EIP-712 `RegisterRecord` signature. */
export interface RegisterRecordBody {
  readonly cid: string;
  readonly category: string;
  readonly supersedes: string | null;
  readonly metadata: SealedMetadata;
  readonly keys: readonly WrappedRecordKey[];
  readonly deadline: number;
  readonly signature: string;
}

/** `202` of `POST /records`: the record id and the relay carrying its registration to the chain. */
export interface RecordAccepted {
  readonly id: string;
  readonly relayId: string;
}

/** The records routes of the API, typed (see apps/api/src/records). Errors reject with an `ApiError`. */
@Injectable({ providedIn: 'root' })
export class RecordsApi {
  private readonly api = inject(ApiClient);

  /** My records (a patient), or `patient`'s records that I may read now (provider, emergency staff). */
  list(options: { patient?: string; cursor?: string; limit?: number } = {}): Promise<Page<RecordView>> {
    return this.api.get<Page<RecordView>>('/records', {
      patient: options.patient,
      cursor: options.cursor,
      limit: options.limit,
    });
  }

  record(id: string): Promise<RecordDetail> {
    return this.api.get<RecordDetail>(this.path(id));
  }

  /** The ciphertext bytes. */
  async blob(id: string): Promise<Uint8Array> {
    return blobBytes(await this.api.getBlob(`${this.path(id)}/blob`));
  }

  key(id: string): Promise<RecordKeyView> {
    return this.api.get<RecordKeyView>(`${this.path(id)}/key`);
  }

  /** Stores the ciphertext: sent as raw bytes (`application/octet-stream`), at most 25 MiB. */
  uploadBlob(ciphertext: Uint8Array): Promise<StoredBlob> {
    // A Blob body carries its own Content-Type; a Uint8Array would be sent as JSON.
    const body = new Blob([ciphertext.slice().buffer as ArrayBuffer], { type: 'application/octet-stream' });
    return this.api.post<StoredBlob>('/records/blobs', body);
  }

  register(body: RegisterRecordBody): Promise<RecordAccepted> {
    return this.api.post<RecordAccepted>('/records', body);
  }

  /** Providers with an active grant for `category` and emergency staff with a messaging key. */
  async recipients(category: string): Promise<RecordRecipient[]> {
    const page = await this.api.get<{ items: RecordRecipient[] }>('/records/recipients', { category });
    return page.items;
  }

  async keyRequests(): Promise<RecordKeyRequest[]> {
    const page = await this.api.get<{ items: RecordKeyRequest[] }>('/records/key-requests');
    return page.items;
  }

  shareKeys(id: string, keys: readonly WrappedRecordKey[]): Promise<void> {
    return this.api.post(`${this.path(id)}/keys`, { keys });
  }

  private path(id: string): string {
    return `/records/${encodeURIComponent(id)}`;
  }
}
