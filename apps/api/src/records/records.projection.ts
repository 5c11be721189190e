import type {
  ChainFactEvent,
  ConsentEvent,
  RecordEvent,
  RecordedEvent,
  SealedRecordMetadata,
} from '@custos/domain';
import type { Projection } from '../projections/projection';
import type { ReadModelWriter } from '../read-models/read-model.port';

/**
 * The records read models: `records` (one document per record version: ciphertext address, sealed
 * metadata, registration status, place in the amendment chain), `record_keys` (one wrapped key per
 * record and reader) and `record_relays` (relay id → record, to learn of a failed registration).
 */

/** `pending` until the chain's `RecordRegistered` log is mirrored; `failed` when its relay failed. */
export type RecordStatus = 'pending' | 'registered' | 'failed';

export interface RecordDocument {
  id: string;
  patient: string;
  cid: string;
  category: string;
  size: number;
  supersedes: string | null;
  /** The registered amendment of this version, if any. */
  supersededBy: string | null;
  status: RecordStatus;
  relayId: string;
  metadata: SealedRecordMetadata;
  submittedAt: string;
  registeredAt: string | null;
  updatedAt: string;
  [key: string]: unknown;
}

export interface RecordKeyDocument {
  id: string;
  recordId: string;
  patient: string;
  recipient: string;
  wrappedKey: string;
  sharedAt: string;
  [key: string]: unknown;
}

interface RecordRelayDocument {
  id: string;
  recordId: string;
  [key: string]: unknown;
}

export const recordKeyId = (recordId: string, recipient: string) => `${recordId}|${recipient}`;

type Handled =
  | RecordEvent
  | Extract<ConsentEvent, { type: 'ConsentRelayFailed' }>
  | Extract<ChainFactEvent, { type: 'RecordRegistered' }>;

async function apply(event: RecordedEvent, w: ReadModelWriter): Promise<void> {
  const e = event as unknown as Handled;
  const at = event.metadata.occurredAt;
  switch (e.type) {
    case 'RecordSubmitted': {
      const d = e.data;
      const existing = await w.get<RecordDocument>('records', d.recordId);
      // The first patient to submit a ciphertext owns its record (RecordsService.submit refuses the
      // others; this covers two submissions racing past that check).
      if (existing && existing.patient !== d.patient) return;
      await w.upsert('records', {
        id: d.recordId,
        patient: d.patient,
        cid: d.cid,
        category: d.category,
        size: d.size,
        supersedes: d.supersedes,
        supersededBy: existing?.supersededBy ?? null,
        // A resubmission after a failed registration waits for the new relay.
        status: existing?.status === 'registered' ? 'registered' : 'pending',
        relayId: d.relayId,
        metadata: d.metadata,
        submittedAt: existing?.submittedAt ?? at,
        registeredAt: existing?.registeredAt ?? null,
        updatedAt: at,
      } satisfies RecordDocument);
      await w.upsert('record_relays', { id: d.relayId, recordId: d.recordId } satisfies RecordRelayDocument);
      return;
    }
    case 'RecordKeyShared': {
      const d = e.data;
      const record = await w.get<RecordDocument>('records', d.recordId);
      // Keys only for the owner's record: another account's keys would replace its readers' keys.
      if (record && record.patient !== d.patient) return;
      await w.upsert('record_keys', {
        id: recordKeyId(d.recordId, d.recipient),
        recordId: d.recordId,
        patient: d.patient,
        recipient: d.recipient,
        wrappedKey: d.wrappedKey,
        sharedAt: at,
      } satisfies RecordKeyDocument);
      return;
    }
    case 'ConsentRelayFailed': {
      const link = await w.get<RecordRelayDocument>('record_relays', e.data.relayId);
      const record = link && (await w.get<RecordDocument>('records', link.recordId));
      // Only the current attempt's relay decides; a registered record stays registered.
      if (record && record.relayId === e.data.relayId && record.status === 'pending') {
        await w.upsert('records', { ...record, status: 'failed', updatedAt: at });
      }
      return;
    }
    case 'RecordRegistered': {
      const d = e.data;
      const record = await w.get<RecordDocument>('records', d.recordId);
      // A record registered from a wallet directly, without its content here, has nothing to show.
      if (!record || record.patient !== d.patient) return;
      await w.upsert('records', { ...record, status: 'registered', registeredAt: at, updatedAt: at });
      if (d.supersedes) {
        const previous = await w.get<RecordDocument>('records', d.supersedes);
        if (previous && previous.patient === d.patient) {
          await w.upsert('records', { ...previous, supersededBy: d.recordId, updatedAt: at });
        }
      }
      return;
    }
  }
}

export const recordsProjection: Projection = {
  name: 'records',
  collections: [
    { name: 'records', indexes: ['patient', 'category', 'status', 'submittedAt', 'supersedes'] },
    { name: 'record_keys', indexes: ['recordId', 'patient', 'recipient'] },
    { name: 'record_relays', indexes: [] },
  ],
  eventTypes: new Set(['RecordSubmitted', 'RecordKeyShared', 'ConsentRelayFailed', 'RecordRegistered']),
  apply,
};
