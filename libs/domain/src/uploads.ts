import type { EventDraft } from './events';

/**
 * Encrypted blobs uploaded to the blob store (`POST /records/blobs`) before anything refers to them.
 * An upload is claimed once a record is submitted with its address (or a message carries it as its
 * attachment). One that stays unclaimed past its time is discarded: removed from the blob store. Until
 * then it counts against its uploader's allowance of unclaimed bytes, so no account can fill the disk
 * with ciphertext no record will ever use.
 *
 * Facts without a decision (the allowance is checked against the projection, like a rate limit), so
 * one stream for all of them, appended without a revision check.
 */
export const UPLOADS_STREAM = 'uploads';

export interface BlobUploadedData {
  /** The blob's content address (IPFS CIDv1). */
  cid: string;
  /** Ciphertext bytes. */
  size: number;
  /** Who uploaded it (a wallet address). */
  uploader: string;
}

export interface BlobDiscardedData {
  cid: string;
  /** Plain words for the audit trail, e.g. "unclaimed for 24 hours". */
  reason: string;
}

export type UploadEvent =
  EventDraft<'BlobUploaded', BlobUploadedData> | EventDraft<'BlobDiscarded', BlobDiscardedData>;

export const blobUploaded = (data: BlobUploadedData): UploadEvent => ({
  type: 'BlobUploaded',
  version: 1,
  data,
});

export const blobDiscarded = (data: BlobDiscardedData): UploadEvent => ({
  type: 'BlobDiscarded',
  version: 1,
  data,
});
