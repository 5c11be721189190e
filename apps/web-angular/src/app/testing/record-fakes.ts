/**
 * Fakes for the records specs (never part of the app build): records sealed with the same libraries
 * as the app (libs/e2ee, libs/records), and object URLs (jsdom has none).
 */
import { type RecordMetadata, sealRecord, sealRecordMetadata, unwrapKey, wrapKey } from '@custos/e2ee';
import { contentAddress, recordIdOf } from '@custos/records';

import { blobBytes } from '../records/blob-bytes';
import type { ObjectUrls } from '../records/record-viewer';
import type { RecordView } from '../records/records-api';
import type { MessagingIdentity } from './messaging-fakes';

/** A record as the API would hold it: its view, its ciphertext and (for the test) its key. */
export interface SealedTestRecord {
  readonly view: RecordView;
  readonly blob: Uint8Array;
  readonly key: Uint8Array;
}

/** Seals `content` for `patient` (lower-case address) as the patient's app does. */
export async function sealedRecord(
  patient: string,
  content: Uint8Array,
  metadata: RecordMetadata,
  more: Partial<RecordView> = {},
): Promise<SealedTestRecord> {
  const { blob, key } = await sealRecord(content, patient);
  const cid = await contentAddress(blob);
  return {
    blob,
    key,
    view: {
      id: recordIdOf(cid),
      patient,
      cid,
      category: 'lab_results',
      size: blob.length,
      supersedes: null,
      supersededBy: null,
      status: 'registered',
      submittedAt: '2026-11-20T09:00:00.000Z',
      registeredAt: '2026-11-20T09:00:05.000Z',
      metadata: await sealRecordMetadata(metadata, key, cid),
      ...more,
    },
  };
}

/** What `GET /records/:id/key` answers to `reader` for `record`. */
export async function keyFor(record: SealedTestRecord, reader: MessagingIdentity) {
  return {
    recordId: record.view.id,
    recipient: reader.address,
    wrappedKey: await wrapKey(record.key, reader.keys.publicKey),
  };
}

/** The record key inside a wrapped key, as `reader` unwraps it. */
export function unwrapFor(wrappedKey: string, reader: MessagingIdentity): Promise<Uint8Array> {
  return unwrapKey(wrappedKey, reader.keys.privateKey, reader.keys.publicKey);
}

/** The body of a blob request or response, as bytes. */
export function bytesOf(body: unknown): Promise<Uint8Array> {
  if (!(body instanceof Blob)) throw new Error('expected a Blob body');
  return blobBytes(body);
}

/** Object URLs that are only names: `created` and `revoked` tell what the app did. */
export class FakeObjectUrls implements ObjectUrls {
  readonly created: { url: string; blob: Blob }[] = [];
  readonly revoked: string[] = [];

  create(blob: Blob): string {
    const url = `blob:test/${this.created.length + 1}`;
    this.created.push({ url, blob });
    return url;
  }

  revoke(url: string): void {
    this.revoked.push(url);
  }
}
