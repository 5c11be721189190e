import { Injectable, inject } from '@angular/core';
import { unwrapKey } from '@custos/e2ee';

import { toApiError } from '../core/api-client';
import { Session } from '../core/session';
import { MessagingKeys } from '../messaging/messaging-keys';
import { RecordsApi } from './records-api';

/** Why a record (or its title) cannot be shown. */
export type RecordReadErrorCode =
  /** The encryption key is not unlocked in this page yet. */
  | 'locked'
  /** The API refused (403): no access now, with the API's reason. */
  | 'refused'
  /** The patient's app has not wrapped the record key for this reader yet. */
  | 'not-shared'
  /** The content does not match its address, or decryption failed: shown as an integrity error. */
  | 'integrity'
  /** Decrypted, but not what its metadata says (e.g. FHIR that is not JSON). */
  | 'unreadable'
  /** Anything else (network, 404, 5xx), with the API's message. */
  | 'failed';

export class RecordReadError extends Error {
  override readonly name = 'RecordReadError';
  constructor(
    readonly code: RecordReadErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const KEY_NOT_SHARED =
  'The patient’s app has not shared this record’s key with you yet. It does so the next time the patient opens Custos; try again later.';

/**
 * Record keys for the signed-in reader: the key wrapped for them (`GET /records/:id/key`, the owner
 * included), unwrapped with their messaging key pair (`MessagingKeys`). Kept in memory for this page,
 * zeroed and forgotten at sign-out. Kept apart from `RecordReader` so that key sharing (in the patient
 * area) does not pull the content-address code into its chunk.
 */
@Injectable({ providedIn: 'root' })
export class RecordKeys {
  private readonly api = inject(RecordsApi);
  private readonly keys = inject(MessagingKeys);
  private readonly byRecord = new Map<string, Promise<Uint8Array>>();

  constructor() {
    inject(Session).onEnd(() => this.forget());
  }

  /** The record key, unwrapped for me (cached). Rejects with a `RecordReadError`. */
  contentKey(recordId: string): Promise<Uint8Array> {
    let key = this.byRecord.get(recordId);
    if (!key) {
      key = this.fetch(recordId);
      this.byRecord.set(recordId, key);
      key.catch(() => this.byRecord.delete(recordId));
    }
    return key;
  }

  forget(): void {
    for (const key of this.byRecord.values())
      void key.then(
        (bytes) => bytes.fill(0),
        () => undefined,
      );
    this.byRecord.clear();
  }

  private async fetch(recordId: string): Promise<Uint8Array> {
    const own = this.keys.keyPair();
    if (!own) throw new RecordReadError('locked', 'Unlock your encryption key first.');
    let wrapped: string;
    try {
      wrapped = (await this.api.key(recordId)).wrappedKey;
    } catch (error) {
      throw readErrorFromApi(error);
    }
    try {
      return await unwrapKey(wrapped, own.keys.privateKey, own.keys.publicKey);
    } catch {
      throw new RecordReadError(
        'integrity',
        'Your key does not open this record: it was not encrypted for you, or it was changed.',
      );
    }
  }
}

/** The API's refusal as it gives it (403 reason, 404 not shared yet, anything else). */
export function readErrorFromApi(error: unknown): RecordReadError {
  const apiError = toApiError(error);
  if (apiError.status === 403) return new RecordReadError('refused', apiError.message);
  if (apiError.status === 404 && apiError.code === 'record_key_not_shared') {
    return new RecordReadError('not-shared', KEY_NOT_SHARED);
  }
  return new RecordReadError('failed', apiError.message);
}
