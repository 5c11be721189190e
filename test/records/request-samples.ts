// Valid records requests and fixtures for the cross-cutting API suites (authorization matrix, bad input,
// rebuild), which run without a chain: the ciphertext is sealed as the patient's browser does (libs/e2ee,
// libs/records) and uploaded through the API, and what `POST /records`, the relay and the chain mirror
// would append afterwards is appended as the domain events they append.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type ChainFactEvent,
  chainStream,
  type ConsentEvent,
  consentStream,
  type RecordEvent,
  recordsStream,
} from '@custos/domain';
import {
  generateKeyPair,
  type RecordMetadata,
  sealRecord,
  sealRecordMetadata,
  utf8,
  wrapKey,
} from '@custos/e2ee';
import { contentAddress, recordIdOf } from '@custos/records';
import { randomAddress, type RequestOptions, type TestApi, type User } from '../api/harness';
import { type MessagingUser, withMessagingKey } from '../messaging/e2e-crypto';

type Sample = RequestOptions & { url?: string };
interface ApiWorld {
  api: TestApi;
}
interface Caller {
  user?: User;
}

const RECORD_BLOB_CONTENT_TYPE = 'application/octet-stream';
/** Where the mirror puts `RecordRegistered` (these suites have no contract: any address will do). */
const FIXTURE_CONTRACT = `0x${'c0'.repeat(20)}`;
/** Shaped like a 65-byte EIP-712 signature; only a suite with a chain can tell it is not one. */
const SIGNATURE_SHAPED = `0x${'11'.repeat(65)}`;
const METADATA: RecordMetadata = { title: 'Lipid panel', mediaType: 'application/fhir+json', format: 'fhir' };

/** A record id nobody registered (0x + 64 hex). */
export const randomRecordId = () => `0x${randomBytes(32).toString('hex')}`;

/** A record sealed for `patient` as their browser does it: the blob to upload, its CID, its key. */
export async function sealedRecord(
  patient: string,
  text = `{"resourceType":"Observation","id":"${randomUUID()}"}`,
) {
  const { blob, key } = await sealRecord(utf8.encode(text), patient);
  return { blob, key, cid: await contentAddress(blob) };
}

/** `POST /records/blobs` with `blob` as the caller's octet-stream body. */
export const blobUpload = (blob: Uint8Array): Sample => ({
  payload: Buffer.from(blob),
  headers: { 'content-type': RECORD_BLOB_CONTENT_TYPE },
});

/** Uploads `blob` through the API as `user`; fails the test unless it is stored under its own CID. */
async function uploadBlob(api: TestApi, user: User, blob: Uint8Array): Promise<string> {
  const res = await api.request('POST', '/records/blobs', { token: user.token, ...blobUpload(blob) });
  assert.equal(res.statusCode, 201, `setup: blob upload: ${res.body}`);
  const { cid } = res.json<{ cid: string }>();
  assert.equal(cid, await contentAddress(blob), 'setup: the API stored the blob under another CID');
  return cid;
}

/**
 * A valid `POST /records` body for `patient`: the record key wrapped for each of `recipients`
 * (address → messaging public key), the signature only shaped like one. `upload` the blob first to
 * get past the blob check.
 */
export async function recordSubmission(
  patient: string,
  recipients: Record<string, string>,
  options: { category?: string; supersedes?: string | null } = {},
) {
  const { blob, key, cid } = await sealedRecord(patient);
  const keys = [];
  for (const [recipient, publicKey] of Object.entries(recipients)) {
    keys.push({ recipient, wrappedKey: await wrapKey(key, publicKey) });
  }
  const body = {
    cid,
    category: options.category ?? 'lab_results',
    supersedes: options.supersedes ?? null,
    metadata: await sealRecordMetadata(METADATA, key, cid),
    keys,
    deadline: Math.floor(Date.now() / 1000) + 3600,
    signature: SIGNATURE_SHAPED,
  };
  return { body, blob, key };
}

export interface StoredRecord {
  id: string;
  cid: string;
  key: Uint8Array;
  relayId: string;
}

/** The next nonce of `patient`'s signed intents, as the consent stream has spent them. */
async function nextNonce(api: TestApi, patient: string): Promise<number> {
  const events = await api.eventStore.readStream(consentStream(patient));
  return events.filter((e) => typeof (e.data as { nonce?: unknown }).nonce === 'number').length;
}

/**
 * A record of `patient`'s without a chain: its ciphertext uploaded through the API; the events
 * `POST /records` appends (`RecordRegistrationSubmitted` on the consent stream, `RecordSubmitted` and
 * a `RecordKeyShared` for the patient and each of `readers` on `records-<patient>`); then, as
 * `outcome` says, the relay's progress up to confirmed and the mirror's `RecordRegistered` (default),
 * the relay's `ConsentRelayFailed`, or nothing (still pending).
 */
export async function storedRecord(
  api: TestApi,
  patient: MessagingUser,
  options: {
    category?: string;
    supersedes?: string | null;
    readers?: readonly MessagingUser[];
    outcome?: 'registered' | 'failed' | 'pending';
    text?: string;
  } = {},
): Promise<StoredRecord> {
  const { blob, key, cid } = await sealedRecord(patient.address, options.text);
  await uploadBlob(api, patient, blob);
  const id = recordIdOf(cid);
  const category = options.category ?? 'lab_results';
  const supersedes = options.supersedes ?? null;
  const relayId = randomUUID();
  const p = patient.address;

  const registration: ConsentEvent = {
    type: 'RecordRegistrationSubmitted',
    version: 1,
    data: {
      relayId,
      patient: p,
      recordId: id,
      category,
      supersedes,
      nonce: await nextNonce(api, p),
      deadline: Math.floor(Date.now() / 1000) + 3600,
      signature: SIGNATURE_SHAPED,
    },
  };
  await api.append(consentStream(p), [registration], new Date(), p);

  const content: RecordEvent[] = [
    {
      type: 'RecordSubmitted',
      version: 1,
      data: {
        recordId: id,
        patient: p,
        cid,
        category,
        size: blob.length,
        supersedes,
        metadata: await sealRecordMetadata(METADATA, key, cid),
        relayId,
      },
    },
  ];
  for (const reader of [patient, ...(options.readers ?? [])]) {
    content.push({
      type: 'RecordKeyShared',
      version: 1,
      data: {
        recordId: id,
        patient: p,
        recipient: reader.address,
        wrappedKey: await wrapKey(key, reader.publicKey),
      },
    });
  }
  await api.append(recordsStream(p), content, new Date(), p);

  const outcome = options.outcome ?? 'registered';
  if (outcome === 'registered') {
    const txHash = `0x${randomBytes(32).toString('hex')}`;
    const relayed: ConsentEvent[] = [
      { type: 'ConsentRelaySent', version: 1, data: { relayId, patient: p, txHash } },
      { type: 'ConsentRelayMined', version: 1, data: { relayId, patient: p, txHash, blockNumber: 1 } },
      { type: 'ConsentRelayConfirmed', version: 1, data: { relayId, patient: p, blockNumber: 1 } },
    ];
    await api.append(consentStream(p), relayed, new Date(), 'system');
    const registered: ChainFactEvent = {
      type: 'RecordRegistered',
      version: 1,
      data: { patient: p, recordId: id, category, supersedes },
    };
    await api.append(chainStream(FIXTURE_CONTRACT), [registered]);
  } else if (outcome === 'failed') {
    const failed: ConsentEvent = {
      type: 'ConsentRelayFailed',
      version: 1,
      data: { relayId, patient: p, reason: 'execution reverted: deadline passed' },
    };
    await api.append(consentStream(p), [failed], new Date(), 'system');
  }
  return { id, cid, key, relayId };
}

/** A registered record of the caller's own, or a random id for an anonymous caller. */
async function recordOf({ api }: ApiWorld, caller: Caller): Promise<string> {
  if (!caller.user) return randomRecordId();
  return (await storedRecord(api, await withMessagingKey(api, caller.user))).id;
}

// ---------------------------------------------------------------------- authorization matrix samples

export const recordsSamples = {
  /** Ciphertext as the caller's browser seals it. */
  uploadBlob: async (_world: ApiWorld, caller: Caller): Promise<Sample> =>
    blobUpload((await sealedRecord(caller.user?.address ?? randomAddress())).blob),

  /** A valid submission by the caller for themself, the key wrapped for them. */
  submit: async (_world: ApiWorld, caller: Caller): Promise<Sample> => {
    const patient = caller.user?.address ?? randomAddress();
    const { publicKey } = await generateKeyPair();
    return { body: (await recordSubmission(patient, { [patient]: publicKey })).body };
  },

  /** `/records/<one of the caller's, registered><suffix>`. */
  record:
    (suffix = '') =>
    async (world: ApiWorld, caller: Caller): Promise<Sample> => ({
      url: `/records/${await recordOf(world, caller)}${suffix}`,
    }),

  /** The caller shares the key of a record of theirs again, with themself (always an allowed recipient). */
  shareKeys: async ({ api }: ApiWorld, caller: Caller): Promise<Sample> => {
    if (!caller.user) {
      const { publicKey } = await generateKeyPair();
      const wrappedKey = await wrapKey(new Uint8Array(32), publicKey);
      return {
        url: `/records/${randomRecordId()}/keys`,
        body: { keys: [{ recipient: randomAddress(), wrappedKey }] },
      };
    }
    const me = await withMessagingKey(api, caller.user);
    const record = await storedRecord(api, me);
    return {
      url: `/records/${record.id}/keys`,
      body: { keys: [{ recipient: me.address, wrappedKey: await wrapKey(record.key, me.publicKey) }] },
    };
  },
};
