// The IPFS node behind the blob store goes down: uploads and reads answer 503 with a reason the app
// can show (try again later) instead of a 500, and a read that could not be served is on the audit
// trail as not served.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AccessAuditedData } from '@custos/domain';
import { DAY, TestApi } from '../api/harness';
import { type FakeKubo, startFakeKubo } from '../ipfs/fake-kubo';
import { withMessagingKey } from '../messaging/e2e-crypto';
import { blobUpload, sealedRecord, storedRecord } from './request-samples';

let kubo: FakeKubo;
let api: TestApi;

before(async () => {
  kubo = await startFakeKubo();
  api = await TestApi.start({ IPFS_API_URL: kubo.url });
});
after(async () => {
  await api.close();
  await kubo.close();
});

test('with the IPFS node down: 503 blob_store_unavailable for uploads and reads, the read audited as not served', async () => {
  const patient = await withMessagingKey(api, await api.newUser());
  const provider = await withMessagingKey(api, await api.newUser('provider'));
  await api.grant(patient.address, provider.address, 'lab_results', new Date(Date.now() + DAY * 1000));
  const record = await storedRecord(api, patient, { readers: [provider] });
  const served = await api.request('GET', `/records/${record.id}/blob`, { token: provider.token });
  assert.equal(served.statusCode, 200, 'served while the node is up');

  await kubo.close();
  const eventsBefore = (await api.events()).length;
  const upload = await api.request('POST', '/records/blobs', {
    token: patient.token,
    ...blobUpload((await sealedRecord(patient.address)).blob),
  });
  assert.equal(upload.statusCode, 503, upload.body);
  assert.equal(upload.json<{ code: string }>().code, 'blob_store_unavailable');
  assert.match(upload.json<{ message: string }>().message, /try again/);
  assert.equal((await api.events()).length, eventsBefore, 'a failed upload records nothing');

  const read = await api.request('GET', `/records/${record.id}/blob`, { token: provider.token });
  assert.equal(read.statusCode, 503, read.body);
  assert.equal(read.json<{ code: string }>().code, 'blob_store_unavailable');
  const audited = (await api.events())
    .filter((e) => e.type === 'AccessAudited')
    .map((e) => e.data as AccessAuditedData)
    .filter((a) => a.actor === provider.address && a.action === 'read_record_blob');
  assert.deepEqual(
    audited.map((a) => [a.outcome, a.reason]),
    [
      ['allowed', audited[0]?.reason],
      ['denied', 'the blob store did not answer'],
    ],
  );
});
