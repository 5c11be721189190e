import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fromBase64url,
  generateKeyPair,
  IntegrityError,
  openRecord,
  openRecordMetadata,
  type RecordMetadata,
  sealRecord,
  sealRecordMetadata,
  toBase64url,
  unwrapKey,
  utf8,
  wrapKey,
} from './index';

const patient = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const otherPatient = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const cid = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4';
const otherCid = 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am';
const record = utf8.encode(
  '{"resourceType":"Observation","code":{"text":"Potassium"},"valueQuantity":{"value":5.9}}',
);
const metadata: RecordMetadata = {
  title: 'Potassium, March',
  mediaType: 'application/fhir+json',
  fileName: 'potassium.json',
  format: 'fhir',
};

describe('record encryption', () => {
  test('a sealed record opens with its key for its patient; the blob is IV ‖ ciphertext ‖ tag', async () => {
    const { blob, key } = await sealRecord(record, patient);
    assert.equal(key.length, 32);
    assert.equal(blob.length, 12 + record.length + 16);
    assert.ok(!Buffer.from(blob).toString('latin1').includes('Potassium'));
    assert.deepEqual(await openRecord(blob, key, patient), record);
    // The address is compared in lower case: a checksummed or lower-case spelling opens alike.
    assert.deepEqual(await openRecord(blob, key, patient.toLowerCase()), record);
    const again = await sealRecord(record, patient);
    assert.notDeepEqual(again.key, key, 'a fresh key per record');
    assert.notDeepEqual(again.blob.subarray(0, 12), blob.subarray(0, 12), 'a fresh IV per record');
  });

  test('a flipped bit in any byte of the blob (IV, ciphertext or tag) fails with an integrity error', async () => {
    const { blob, key } = await sealRecord(utf8.encode('dose: 5 mg'), patient);
    for (let i = 0; i < blob.length; i++) {
      const changed = blob.slice();
      changed[i]! ^= 0x01;
      await assert.rejects(openRecord(changed, key, patient), IntegrityError, `byte ${i}`);
    }
    await assert.rejects(
      openRecord(blob.subarray(0, 27), key, patient),
      IntegrityError,
      'shorter than IV and tag',
    );
    await assert.rejects(
      openRecord(blob.subarray(0, blob.length - 1), key, patient),
      IntegrityError,
      'truncated',
    );
  });

  test('another patient’s additional data, or another key, fails', async () => {
    const { blob, key } = await sealRecord(record, patient);
    await assert.rejects(openRecord(blob, key, otherPatient), IntegrityError);
    const { key: otherKey } = await sealRecord(record, patient);
    await assert.rejects(openRecord(blob, otherKey, patient), IntegrityError);
    await assert.rejects(
      openRecord(blob, key.subarray(0, 16), patient),
      TypeError,
      'a record key is 32 bytes',
    );
    await assert.rejects(sealRecord(record, 'not-an-address'), TypeError);
  });

  test('the empty record seals and opens', async () => {
    const { blob, key } = await sealRecord(new Uint8Array(0), patient);
    assert.equal(blob.length, 28);
    assert.deepEqual(await openRecord(blob, key, patient), new Uint8Array(0));
  });

  test('the record key travels wrapped for a reader, like a message content key', async () => {
    const reader = await generateKeyPair();
    const { blob, key } = await sealRecord(record, patient);
    const wrapped = await wrapKey(key, reader.publicKey);
    const unwrapped = await unwrapKey(wrapped, reader.privateKey, reader.publicKey);
    assert.deepEqual(await openRecord(blob, unwrapped, patient), record);
  });
});

describe('record metadata encryption', () => {
  test('sealed metadata opens with the record key for the same content address', async () => {
    const { key } = await sealRecord(record, patient);
    const sealed = await sealRecordMetadata(metadata, key, cid);
    assert.match(sealed.iv, /^[A-Za-z0-9_-]{16}$/);
    assert.match(sealed.ciphertext, /^[A-Za-z0-9_-]+$/);
    assert.ok(!JSON.stringify(sealed).includes('Potassium'));
    assert.deepEqual(await openRecordMetadata(sealed, key, cid), metadata);
    const withoutFileName: RecordMetadata = { title: 'Scan', mediaType: 'application/pdf', format: 'file' };
    assert.deepEqual(
      await openRecordMetadata(await sealRecordMetadata(withoutFileName, key, cid), key, cid),
      withoutFileName,
    );
  });

  test('only the metadata fields are sealed: extra properties are left out', async () => {
    const { key } = await sealRecord(record, patient);
    const withExtra = { ...metadata, patientName: 'Alice' } as RecordMetadata;
    const sealed = await sealRecordMetadata(withExtra, key, cid);
    assert.deepEqual(await openRecordMetadata(sealed, key, cid), metadata);
  });

  test('metadata moved to another content address, a changed byte or another key fails', async () => {
    const { key } = await sealRecord(record, patient);
    const sealed = await sealRecordMetadata(metadata, key, cid);
    await assert.rejects(openRecordMetadata(sealed, key, otherCid), IntegrityError);
    const flip = (text: string, at: number) => {
      const bytes = fromBase64url(text);
      bytes[at]! ^= 1;
      return toBase64url(bytes);
    };
    await assert.rejects(openRecordMetadata({ ...sealed, iv: flip(sealed.iv, 0) }, key, cid), IntegrityError);
    await assert.rejects(
      openRecordMetadata({ ...sealed, ciphertext: flip(sealed.ciphertext, 0) }, key, cid),
      IntegrityError,
    );
    const { key: otherKey } = await sealRecord(record, patient);
    await assert.rejects(openRecordMetadata(sealed, otherKey, cid), IntegrityError);
    await assert.rejects(openRecordMetadata({ ...sealed, iv: 'not base64url!' }, key, cid), IntegrityError);
    await assert.rejects(
      openRecordMetadata({ ...sealed, iv: toBase64url(new Uint8Array(8)) }, key, cid),
      IntegrityError,
    );
  });

  test('refuses metadata that is not a record description', async () => {
    const { key } = await sealRecord(record, patient);
    for (const bad of [
      { ...metadata, format: 'pdf' },
      { ...metadata, title: 7 },
      { ...metadata, fileName: null },
      { mediaType: 'text/plain', format: 'file' },
    ]) {
      await assert.rejects(sealRecordMetadata(bad as unknown as RecordMetadata, key, cid), TypeError);
    }
    await assert.rejects(sealRecordMetadata(metadata, key, ''), TypeError);
  });
});
