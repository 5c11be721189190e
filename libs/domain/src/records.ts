import { conflict, type Decider, invalid, notFound } from './decider';
import type { EventDraft } from './events';

/**
 * A patient's encrypted health records, one stream per patient (`records-<patient>`). The server
 * holds ciphertext only: the record's bytes (in the blob store, addressed by an IPFS CIDv1), its
 * metadata (title, media type) sealed with the record key, and the record key wrapped for each reader
 * (the patient, and whoever the patient's browser shared it with). Whether a reader may have their
 * wrapped key released is decided at the moment of reading, from the consent projection; nothing here
 * stores "may read".
 *
 * The record's on-chain registration (`registerRecordWithSig`) is a signed intent on the patient's
 * consent stream (`RecordRegistrationSubmitted`, it spends a nonce like grants do); the chain's
 * `RecordRegistered` log is the proof. A record whose registration failed may be submitted again
 * with a new signature (same bytes, same category).
 */

export const recordsStream = (patient: string): string => `records-${patient}`;

/** The largest record ciphertext the API accepts (the browser encrypts before uploading). */
export const MAX_RECORD_BYTES = 25 * 1024 * 1024;
/** The sealed metadata (title, media type, file name) is small: at most this many ciphertext bytes. */
export const MAX_RECORD_METADATA_BYTES = 4 * 1024;
/**
 * Readers per record in one request (the patient, the providers of a category, and every emergency
 * staff account: a hospital's whole emergency team). 1,000 keys are ~190 KB of JSON, within the
 * default MAX_BODY_BYTES.
 */
export const MAX_RECORD_KEYS = 1_000;
/** A record key wrapped with `wrapKey` (libs/e2ee): 92 bytes, 123 characters of unpadded base64url. */
export const WRAPPED_RECORD_KEY_LENGTH = 123;

/** The record's metadata sealed with the record key (base64url), see `sealRecordMetadata`. */
export interface SealedRecordMetadata {
  iv: string;
  ciphertext: string;
}

export interface RecordKeyGrant {
  recipient: string;
  wrappedKey: string;
}

// ----------------------------------------------------------------------------------------- events

export type RecordEvent =
  | EventDraft<
      'RecordSubmitted',
      {
        recordId: string;
        patient: string;
        /** IPFS CIDv1 of the ciphertext. */
        cid: string;
        category: string;
        /** Ciphertext bytes. */
        size: number;
        supersedes: string | null;
        metadata: SealedRecordMetadata;
        /** The relay carrying its registration to the chain (`consent_relays`). */
        relayId: string;
      }
    >
  | EventDraft<'RecordKeyShared', { recordId: string; patient: string } & RecordKeyGrant>;

// ----------------------------------------------------------------------------------------- commands

export type RecordCommand =
  | {
      type: 'SubmitRecord';
      recordId: string;
      patient: string;
      cid: string;
      category: string;
      size: number;
      supersedes: string | null;
      metadata: SealedRecordMetadata;
      keys: RecordKeyGrant[];
      relayId: string;
      /** Facts from the relay read model: this patient's records whose registration failed. */
      failedRegistrations: readonly string[];
    }
  | { type: 'ShareRecordKeys'; recordId: string; patient: string; keys: RecordKeyGrant[] };

// ----------------------------------------------------------------------------------------- state

export interface RecordEntry {
  cid: string;
  category: string;
  supersedes: string | null;
  /** The latest submitted amendment of this record, registered or still on its way. */
  amendedBy: string | null;
  relayId: string;
  /** Wrapped record keys by recipient. */
  keys: Readonly<Record<string, string>>;
}

export interface RecordsState {
  patient: string | null;
  records: Readonly<Record<string, RecordEntry>>;
}

// ----------------------------------------------------------------------------------------- decider

const initialState: RecordsState = { patient: null, records: {} };

function requirePatient(state: RecordsState, patient: string): void {
  if (state.patient !== null && state.patient !== patient) {
    throw invalid('wrong_stream', `this records stream belongs to ${state.patient}, not ${patient}`);
  }
}

function checkKeys(keys: readonly RecordKeyGrant[]): void {
  if (keys.length === 0 || keys.length > MAX_RECORD_KEYS) {
    throw invalid('invalid_keys', `give 1 to ${MAX_RECORD_KEYS} wrapped keys, not ${keys.length}`);
  }
  const seen = new Set<string>();
  for (const { recipient } of keys) {
    if (seen.has(recipient)) throw invalid('duplicate_recipient', `${recipient} has two wrapped keys`);
    seen.add(recipient);
  }
}

function keyEvents(recordId: string, patient: string, keys: readonly RecordKeyGrant[]): RecordEvent[] {
  return keys.map(({ recipient, wrappedKey }) => ({
    type: 'RecordKeyShared',
    version: 1,
    data: { recordId, patient, recipient, wrappedKey },
  }));
}

function decide(command: RecordCommand, state: RecordsState, _now: Date): RecordEvent[] {
  requirePatient(state, command.patient);
  switch (command.type) {
    case 'SubmitRecord': {
      const { recordId, patient, supersedes, failedRegistrations } = command;
      const failed = new Set(failedRegistrations);
      checkKeys(command.keys);
      if (!command.keys.some((k) => k.recipient === patient)) {
        throw invalid(
          'own_key_required',
          'keys must include the record key wrapped for the patient, or the patient could not read it back',
        );
      }
      if (!Number.isSafeInteger(command.size) || command.size <= 0 || command.size > MAX_RECORD_BYTES) {
        throw invalid('invalid_size', `a record is 1 to ${MAX_RECORD_BYTES} bytes of ciphertext`);
      }
      const existing = state.records[recordId];
      if (existing) {
        if (!failed.has(recordId)) {
          throw conflict('record_exists', `record ${recordId} was already submitted`);
        }
        if (existing.cid !== command.cid || existing.category !== command.category) {
          throw conflict('record_exists', `record ${recordId} was submitted with other content or category`);
        }
      }
      if (supersedes !== null) {
        if (supersedes === recordId) throw invalid('invalid_supersedes', 'a record cannot amend itself');
        const previous = state.records[supersedes];
        if (!previous)
          throw notFound('record_not_found', `there is no record ${supersedes} of yours to amend`);
        if (previous.category !== command.category) {
          throw invalid(
            'category_mismatch',
            `an amendment keeps its record's category (${previous.category}), not ${command.category}`,
          );
        }
        if (previous.amendedBy && previous.amendedBy !== recordId && !failed.has(previous.amendedBy)) {
          throw conflict(
            'already_amended',
            `record ${supersedes} was already amended by ${previous.amendedBy}: amend the latest version`,
          );
        }
      }
      return [
        {
          type: 'RecordSubmitted',
          version: 1,
          data: {
            recordId,
            patient,
            cid: command.cid,
            category: command.category,
            size: command.size,
            supersedes,
            metadata: { iv: command.metadata.iv, ciphertext: command.metadata.ciphertext },
            relayId: command.relayId,
          },
        },
        ...keyEvents(recordId, patient, command.keys),
      ];
    }

    case 'ShareRecordKeys': {
      const record = state.records[command.recordId];
      if (!record) throw notFound('record_not_found', `there is no record ${command.recordId} of yours`);
      checkKeys(command.keys);
      // Sharing again what is already shared changes nothing (a retried request, two open tabs).
      const fresh = command.keys.filter((k) => record.keys[k.recipient] !== k.wrappedKey);
      return keyEvents(command.recordId, command.patient, fresh);
    }
  }
}

function evolve(state: RecordsState, event: RecordEvent): RecordsState {
  switch (event.type) {
    case 'RecordSubmitted': {
      const d = event.data;
      const records = { ...state.records };
      const previous = records[d.recordId];
      records[d.recordId] = {
        cid: d.cid,
        category: d.category,
        supersedes: d.supersedes,
        amendedBy: previous?.amendedBy ?? null,
        relayId: d.relayId,
        keys: previous?.keys ?? {},
      };
      const amended = d.supersedes === null ? undefined : records[d.supersedes];
      if (d.supersedes !== null && amended) records[d.supersedes] = { ...amended, amendedBy: d.recordId };
      return { patient: d.patient, records };
    }
    case 'RecordKeyShared': {
      const d = event.data;
      const record = state.records[d.recordId];
      if (!record) return state;
      return {
        ...state,
        records: {
          ...state.records,
          [d.recordId]: { ...record, keys: { ...record.keys, [d.recipient]: d.wrappedKey } },
        },
      };
    }
  }
}

export const recordsDecider: Decider<RecordCommand, RecordsState, RecordEvent> = {
  initialState,
  decide,
  evolve,
};
