import { Injectable, inject } from '@angular/core';
import { IntegrityError, type RecordMetadata, openRecord, openRecordMetadata } from '@custos/e2ee';
import { contentAddress, recordIdOf } from '@custos/records';

import { Session } from '../core/session';
import { RecordKeys, RecordReadError, readErrorFromApi } from './record-keys';
import { RecordsApi, type RecordView } from './records-api';

/** A record decrypted in the browser. */
export interface OpenedRecord {
  readonly record: RecordView;
  readonly metadata: RecordMetadata;
  readonly content: Uint8Array;
}

export const CHANGED_AFTER_ENCRYPTION = 'This record was changed after it was encrypted; it cannot be shown.';
export const CONTENT_ADDRESS_MISMATCH =
  'The file Custos sent does not match this record’s fingerprint (its content address), so it was not opened: it may have been changed or swapped on the server.';

/**
 * Opens records for the signed-in reader (the patient, or a provider or emergency staff member with
 * access) and checks everything the server sends before showing it: the record id is
 * `recordIdOf(cid)`, the ciphertext's own content address is `cid`, and decryption (AES-GCM, bound to
 * the patient and the CID) succeeds. Titles are cached for this page and forgotten at sign-out.
 */
@Injectable({ providedIn: 'root' })
export class RecordReader {
  private readonly api = inject(RecordsApi);
  private readonly keys = inject(RecordKeys);
  private readonly metadataById = new Map<string, Promise<RecordMetadata>>();

  constructor() {
    inject(Session).onEnd(() => this.metadataById.clear());
  }

  /** The record's title, media type and format (cached). Rejects with a `RecordReadError`. */
  metadata(record: RecordView): Promise<RecordMetadata> {
    let metadata = this.metadataById.get(record.id);
    if (!metadata) {
      metadata = this.openMetadata(record);
      this.metadataById.set(record.id, metadata);
      metadata.catch(() => this.metadataById.delete(record.id));
    }
    return metadata;
  }

  /** Fetches, checks and decrypts the record. Rejects with a `RecordReadError`. */
  async open(record: RecordView): Promise<OpenedRecord> {
    checkRecordId(record);
    const [key, blob] = await Promise.all([this.keys.contentKey(record.id), this.fetchBlob(record.id)]);
    if ((await contentAddress(blob)) !== record.cid) {
      throw new RecordReadError('integrity', CONTENT_ADDRESS_MISMATCH);
    }
    const metadata = await this.metadata(record);
    try {
      const content = await openRecord(blob, key, record.patient);
      return { record, metadata, content };
    } catch (error) {
      throw asReadError(error);
    }
  }

  private async openMetadata(record: RecordView): Promise<RecordMetadata> {
    checkRecordId(record);
    const key = await this.keys.contentKey(record.id);
    try {
      return await openRecordMetadata(record.metadata, key, record.cid);
    } catch (error) {
      throw asReadError(error);
    }
  }

  private async fetchBlob(recordId: string): Promise<Uint8Array> {
    try {
      return await this.api.blob(recordId);
    } catch (error) {
      throw readErrorFromApi(error);
    }
  }
}

/** The id the API gives must be the one the chain knows for this content (`recordIdOf(cid)`). */
function checkRecordId(record: RecordView): void {
  let expected: string | null = null;
  try {
    expected = recordIdOf(record.cid);
  } catch {
    // Not a content address in its one spelling: refused below like a mismatch.
  }
  if (expected === null || expected.toLowerCase() !== record.id.toLowerCase()) {
    throw new RecordReadError(
      'integrity',
      'This record’s id does not match its content address, so it was not opened.',
    );
  }
}

function asReadError(error: unknown): RecordReadError {
  if (error instanceof RecordReadError) return error;
  if (error instanceof IntegrityError) return new RecordReadError('integrity', CHANGED_AFTER_ENCRYPTION);
  return new RecordReadError('failed', error instanceof Error ? error.message : 'Something went wrong.');
}
