// Uploads that no record refers to: each account may keep only so many bytes of them
// (UPLOADS_UNCLAIMED_MAX_BYTES), and they are removed from the blob store once UPLOADS_UNCLAIMED_FOR has
// passed, so nobody can fill the server's disk with ciphertext no record will use.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type BlobDiscardedData, recordsStream, UPLOADS_STREAM } from '@custos/domain';
import { contentAddress } from '@custos/records';
import { BLOB_STORE, type BlobStore } from '../../apps/api/src/blob-store/blob-store.port';
import { UploadSweeper } from '../../apps/api/src/records/upload-sweeper.job';
import type { UploadAllowanceDocument } from '../../apps/api/src/records/uploads.projection';
import { TestApi, type User } from '../api/harness';
import { withMessagingKey } from '../messaging/e2e-crypto';
import { blobUpload, storedRecord } from './request-samples';

const HOUR = 3_600_000;
const LIMIT = 20_000;

let api: TestApi;
let blobs: BlobStore;

before(async () => {
  api = await TestApi.start({ UPLOADS_UNCLAIMED_MAX_BYTES: String(LIMIT), UPLOADS_UNCLAIMED_FOR: '1h' });
  blobs = api.app.get<symbol, BlobStore>(BLOB_STORE);
});
after(() => api.close());

async function upload(user: User, bytes: Uint8Array) {
  return api.request('POST', '/records/blobs', { token: user.token, ...blobUpload(bytes) });
}

async function uploaded(user: User, bytes: Uint8Array): Promise<string> {
  const res = await upload(user, bytes);
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ cid: string }>().cid;
}

const unclaimedBytes = async (user: User) =>
  (await api.readModels.get<UploadAllowanceDocument>('upload_allowances', user.address))?.unclaimedBytes ?? 0;

/** What a record submitted with `cid` as its ciphertext appends (the API's submit needs a chain). */
async function claimByRecord(patient: User, cid: string, size: number): Promise<void> {
  await api.append(
    recordsStream(patient.address),
    [
      {
        type: 'RecordSubmitted',
        version: 1,
        data: {
          recordId: `0x${randomBytes(32).toString('hex')}`,
          patient: patient.address,
          cid,
          category: 'lab_results',
          size,
          supersedes: null,
          metadata: { iv: 'aaaaaaaaaaaaaaaa', ciphertext: 'bbbb' },
          relayId: 'relay',
        },
      },
    ],
    new Date(),
    patient.address,
  );
}

describe('unclaimed uploads', () => {
  test(`past ${LIMIT} unclaimed bytes an upload is refused (413, nothing stored); a record's claim gives them back`, async () => {
    const uploader = await api.newUser();
    const other = await api.newUser();
    const first = new Uint8Array(randomBytes(8_000));
    const firstCid = await uploaded(uploader, first);
    await uploaded(uploader, new Uint8Array(randomBytes(8_000)));
    // The same bytes again are not charged twice.
    await uploaded(uploader, first);
    assert.equal(await unclaimedBytes(uploader), 16_000);

    const over = new Uint8Array(randomBytes(8_000));
    const eventsBefore = (await api.events()).length;
    const refused = await upload(uploader, over);
    assert.equal(refused.statusCode, 413, refused.body);
    const answer = refused.json<{ code: string; message: string }>();
    assert.equal(answer.code, 'unclaimed_uploads_over_limit');
    assert.match(answer.message, /16000 bytes/);
    assert.match(answer.message, /UPLOADS_UNCLAIMED_MAX_BYTES/);
    assert.equal(await blobs.size(await contentAddress(over)), null, 'nothing stored');
    assert.equal((await api.events()).length, eventsBefore, 'nothing recorded');

    // Another account has an allowance of its own.
    await uploaded(other, new Uint8Array(randomBytes(8_000)));

    await claimByRecord(uploader, firstCid, first.length);
    assert.equal(await unclaimedBytes(uploader), 8_000);
    await uploaded(uploader, over);
    assert.equal(await unclaimedBytes(uploader), 16_000);
  });

  test('the sweep removes uploads nothing referred to within UPLOADS_UNCLAIMED_FOR, and only those', async () => {
    const patient = await withMessagingKey(api, await api.newUser());
    const orphan = new Uint8Array(randomBytes(5_000));
    const orphanCid = await uploaded(patient, orphan);
    const record = await storedRecord(api, patient); // uploaded, then claimed by its record
    const sweeper = api.app.get(UploadSweeper);

    // Not yet due: nothing goes.
    const early = await sweeper.run(new Date(Date.now() + HOUR / 2));
    assert.ok(!early.discarded.includes(orphanCid));
    assert.equal(await blobs.size(orphanCid), orphan.length);

    const report = await sweeper.run(new Date(Date.now() + 2 * HOUR));
    assert.ok(report.discarded.includes(orphanCid), JSON.stringify(report));
    assert.ok(!report.discarded.includes(record.cid));
    assert.deepEqual(report.failed, []);
    assert.equal(await blobs.size(orphanCid), null, 'the orphan is gone');
    const read = await api.request('GET', `/records/${record.id}/blob`, { token: patient.token });
    assert.equal(read.statusCode, 200, 'the record still has its ciphertext');

    const discarded = (await api.eventStore.readStream(UPLOADS_STREAM))
      .filter((e) => e.type === 'BlobDiscarded')
      .map((e) => e.data as BlobDiscardedData);
    assert.deepEqual(
      discarded.filter((d) => d.cid === orphanCid).map((d) => d.reason),
      ['no record or message referred to it within 1 hour of its upload'],
    );
    assert.equal(await unclaimedBytes(patient), 0, 'the allowance is given back');

    // Run again: nothing more to do. The same bytes can be uploaded again, and count again.
    const again = await sweeper.run(new Date(Date.now() + 2 * HOUR));
    assert.ok(!again.discarded.includes(orphanCid));
    assert.equal(await uploaded(patient, orphan), orphanCid);
    assert.equal(await blobs.size(orphanCid), orphan.length);
    assert.equal(await unclaimedBytes(patient), orphan.length);
  });
});
