import type { ConversationEvent, RecordEvent, RecordedEvent, UploadEvent } from '@custos/domain';
import { isContentAddress } from '@custos/records';
import type { Projection } from '../projections/projection';
import type { ReadModelWriter } from '../read-models/read-model.port';

/**
 * What the blob store holds and whether anything refers to it: `uploads`, one document per blob
 * address, and `upload_allowances`, the unclaimed bytes of each uploader (the allowance
 * UPLOADS_UNCLAIMED_MAX_BYTES is checked against). A blob is claimed by the first record submitted
 * with its address or the first message carrying it as its attachment, and stays claimed: the sweep
 * (UploadSweeper) removes only blobs never claimed.
 */
export interface UploadDocument {
  /** The blob's content address. */
  id: string;
  size: number;
  claimed: boolean;
  /** Who uploaded it while it was unclaimed (each is charged its size until the claim or the discard). */
  uploaders: string[];
  /** When it was last uploaded: an unclaimed blob is discarded a while after this. */
  lastUploadedAt: string;
  claimedAt: string | null;
  [key: string]: unknown;
}

export interface UploadAllowanceDocument {
  /** The uploader's address. */
  id: string;
  unclaimedBytes: number;
  unclaimedBlobs: number;
  [key: string]: unknown;
}

type Handled =
  | UploadEvent
  | Extract<RecordEvent, { type: 'RecordSubmitted' }>
  | Extract<ConversationEvent, { type: 'MessageSent' }>;

async function charge(w: ReadModelWriter, uploader: string, bytes: number, blobs: number): Promise<void> {
  const allowance = await w.get<UploadAllowanceDocument>('upload_allowances', uploader);
  await w.upsert('upload_allowances', {
    id: uploader,
    unclaimedBytes: Math.max(0, (allowance?.unclaimedBytes ?? 0) + bytes),
    unclaimedBlobs: Math.max(0, (allowance?.unclaimedBlobs ?? 0) + blobs),
  } satisfies UploadAllowanceDocument);
}

async function claim(w: ReadModelWriter, cid: string, size: number, at: string): Promise<void> {
  // A message's attachment id may name a blob kept elsewhere.
  if (!isContentAddress(cid)) return;
  const upload = await w.get<UploadDocument>('uploads', cid);
  if (upload?.claimed) return;
  for (const uploader of upload?.uploaders ?? []) await charge(w, uploader, -upload!.size, -1);
  // Claimed also when the upload is not known (yet): a later upload of the same bytes is never swept.
  await w.upsert('uploads', {
    id: cid,
    size: upload?.size ?? size,
    claimed: true,
    uploaders: [],
    lastUploadedAt: upload?.lastUploadedAt ?? at,
    claimedAt: at,
  } satisfies UploadDocument);
}

async function apply(event: RecordedEvent, w: ReadModelWriter): Promise<void> {
  const e = event as unknown as Handled;
  const at = event.metadata.occurredAt;
  switch (e.type) {
    case 'BlobUploaded': {
      const { cid, size, uploader } = e.data;
      const upload = await w.get<UploadDocument>('uploads', cid);
      if (upload?.claimed) return;
      const uploaders = upload?.uploaders ?? [];
      const charged = uploaders.includes(uploader);
      if (!charged) await charge(w, uploader, size, 1);
      await w.upsert('uploads', {
        id: cid,
        size,
        claimed: false,
        uploaders: charged ? uploaders : [...uploaders, uploader],
        lastUploadedAt: at,
        claimedAt: null,
      } satisfies UploadDocument);
      return;
    }
    case 'BlobDiscarded': {
      const upload = await w.get<UploadDocument>('uploads', e.data.cid);
      // Claimed meanwhile: the sweep checks before it deletes, so this does not happen in one process.
      if (!upload || upload.claimed) return;
      for (const uploader of upload.uploaders) await charge(w, uploader, -upload.size, -1);
      await w.delete('uploads', upload.id);
      return;
    }
    case 'RecordSubmitted':
      return claim(w, e.data.cid, e.data.size, at);
    case 'MessageSent': {
      const attachment = e.data.attachment;
      if (attachment) await claim(w, attachment.blobId, attachment.size, at);
      return;
    }
  }
}

export const uploadsProjection: Projection = {
  name: 'uploads',
  collections: [
    {
      name: 'uploads',
      indexes: ['claimed', 'lastUploadedAt'],
      // The sweep: unclaimed, oldest first.
      compoundIndexes: [['claimed', 'lastUploadedAt']],
    },
    { name: 'upload_allowances', indexes: [] },
  ],
  eventTypes: new Set(['BlobUploaded', 'BlobDiscarded', 'RecordSubmitted', 'MessageSent']),
  apply,
};
