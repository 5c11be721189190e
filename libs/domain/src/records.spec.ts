import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RECORD_KEYS, type RecordCommand, type RecordEvent, recordsDecider } from './records';
import { scenario } from './testing/scenario';

const patient = '0x00000000000000000000000000000000000000a1';
const provider = '0x00000000000000000000000000000000000000b2';
const other = '0x00000000000000000000000000000000000000c3';
const id = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const cid = (n: number) => `bafkreicid${n}`;
const metadata = { iv: 'aXY', ciphertext: 'Y2lwaGVy' };
const key = (recipient: string, wrappedKey = `wrapped-for-${recipient}`) => ({ recipient, wrappedKey });

const submit = (
  n: number,
  change: Partial<Extract<RecordCommand, { type: 'SubmitRecord' }>> = {},
): Extract<RecordCommand, { type: 'SubmitRecord' }> => ({
  type: 'SubmitRecord',
  recordId: id(n),
  patient,
  cid: cid(n),
  category: 'lab_results',
  size: 1000,
  supersedes: null,
  metadata,
  keys: [key(patient)],
  relayId: `relay-${n}`,
  failedRegistrations: [],
  ...change,
});

const submitted = (
  n: number,
  change: Partial<Extract<RecordEvent, { type: 'RecordSubmitted' }>['data']> = {},
) =>
  ({
    type: 'RecordSubmitted',
    version: 1,
    data: {
      recordId: id(n),
      patient,
      cid: cid(n),
      category: 'lab_results',
      size: 1000,
      supersedes: null,
      metadata,
      relayId: `relay-${n}`,
      ...change,
    },
  }) satisfies RecordEvent;

const shared = (n: number, recipient: string, wrappedKey = `wrapped-for-${recipient}`) =>
  ({
    type: 'RecordKeyShared',
    version: 1,
    data: { recordId: id(n), patient, recipient, wrappedKey },
  }) satisfies RecordEvent;

const records = scenario(recordsDecider);

describe('records: submitting', () => {
  test('a record is submitted with its key wrapped for the patient and each reader', () => {
    records
      .given()
      .when(submit(1, { keys: [key(patient), key(provider)] }))
      .then([submitted(1), shared(1, patient), shared(1, provider)]);
  });

  test('without a key for the patient it is refused: the patient could not read it back', () => {
    records
      .given()
      .when(submit(1, { keys: [key(provider)] }))
      .thenError('own_key_required', 'invalid');
  });

  test('two keys for one recipient are refused', () => {
    records
      .given()
      .when(submit(1, { keys: [key(patient), key(patient, 'other')] }))
      .thenError('duplicate_recipient', 'invalid');
  });

  test('a whole emergency team holds keys: up to MAX_RECORD_KEYS readers, not one more', () => {
    const readers = Array.from(
      { length: MAX_RECORD_KEYS - 1 },
      (_, i) => `0xee${i.toString(16).padStart(38, '0')}`,
    );
    records
      .given()
      .when(submit(1, { keys: [key(patient), ...readers.map((reader) => key(reader))] }))
      .then([submitted(1), shared(1, patient), ...readers.map((reader) => shared(1, reader))]);
    records
      .given()
      .when(submit(1, { keys: [key(patient), ...readers.map((reader) => key(reader)), key(other)] }))
      .thenError('invalid_keys', 'invalid');
  });

  test('an empty or oversized record is refused', () => {
    records
      .given()
      .when(submit(1, { size: 0 }))
      .thenError('invalid_size', 'invalid');
    records
      .given()
      .when(submit(1, { size: 25 * 1024 * 1024 + 1 }))
      .thenError('invalid_size', 'invalid');
  });

  test('the same record twice is a conflict', () => {
    records
      .given([submitted(1)])
      .when(submit(1, { relayId: 'relay-again' }))
      .thenError('record_exists', 'conflict');
  });

  test('a record whose registration failed may be submitted again with a new signature', () => {
    records
      .given([submitted(1), shared(1, patient)])
      .when(submit(1, { relayId: 'relay-retry', failedRegistrations: [id(1)] }))
      .then([submitted(1, { relayId: 'relay-retry' }), shared(1, patient)]);
  });

  test('but not with other content', () => {
    records
      .given([submitted(1)])
      .when(submit(1, { cid: cid(9), failedRegistrations: [id(1)] }))
      .thenError('record_exists', 'conflict');
  });

  test("another patient's stream is refused", () => {
    records
      .given([submitted(1)])
      .when(submit(2, { patient: other, keys: [key(other)] }))
      .thenError('wrong_stream', 'invalid');
  });
});

describe('records: amendments', () => {
  test('a new version supersedes the old one, in the same category', () => {
    const state = records
      .given([submitted(1)])
      .when(submit(2, { supersedes: id(1) }))
      .state();
    assert.equal(state.records[id(1)]?.amendedBy, id(2));
    assert.equal(state.records[id(2)]?.supersedes, id(1));
  });

  test('an amendment in another category is refused', () => {
    records
      .given([submitted(1)])
      .when(submit(2, { supersedes: id(1), category: 'imaging' }))
      .thenError('category_mismatch', 'invalid');
  });

  test('amending an unknown record is refused', () => {
    records
      .given()
      .when(submit(2, { supersedes: id(1) }))
      .thenError('record_not_found', 'not_found');
  });

  test('only the latest version can be amended: no forks in the history', () => {
    records
      .given([submitted(1), submitted(2, { supersedes: id(1) })])
      .when(submit(3, { supersedes: id(1) }))
      .thenError('already_amended', 'conflict');
  });

  test('an amendment whose registration failed does not block a new one', () => {
    records
      .given([submitted(1), submitted(2, { supersedes: id(1) })])
      .when(submit(3, { supersedes: id(1), failedRegistrations: [id(2)] }))
      .then([submitted(3, { supersedes: id(1) }), shared(3, patient)]);
  });

  test('a record cannot amend itself', () => {
    records
      .given([submitted(1)])
      .when(submit(1, { supersedes: id(1), failedRegistrations: [id(1)] }))
      .thenError('invalid_supersedes');
  });
});

describe('records: sharing keys', () => {
  test('the patient shares the key with a new reader', () => {
    records
      .given([submitted(1), shared(1, patient)])
      .when({ type: 'ShareRecordKeys', recordId: id(1), patient, keys: [key(provider)] })
      .then([shared(1, provider)]);
  });

  test('sharing what is already shared changes nothing', () => {
    records
      .given([submitted(1), shared(1, patient), shared(1, provider)])
      .when({ type: 'ShareRecordKeys', recordId: id(1), patient, keys: [key(provider)] })
      .then([]);
  });

  test('a new wrapping for the same reader replaces the old one', () => {
    records
      .given([submitted(1), shared(1, provider)])
      .when({ type: 'ShareRecordKeys', recordId: id(1), patient, keys: [key(provider, 'rewrapped')] })
      .then([shared(1, provider, 'rewrapped')]);
  });

  test('keys for an unknown record are refused', () => {
    records
      .given()
      .when({ type: 'ShareRecordKeys', recordId: id(1), patient, keys: [key(provider)] })
      .thenError('record_not_found', 'not_found');
  });
});
