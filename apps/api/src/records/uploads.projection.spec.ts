import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  blobDiscarded,
  blobUploaded,
  conversationStream,
  type EventDraft,
  recordsStream,
  UPLOADS_STREAM,
} from '@custos/domain';
import { contentAddress } from '@custos/records';
import { stamp } from '../core/aggregate-repository';
import { SqliteEventStore } from '../event-store/sqlite.event-store';
import { ProjectionRunner } from '../projections/projection-runner';
import { SqliteReadModelStore } from '../read-models/sqlite.read-model';
import { type UploadAllowanceDocument, type UploadDocument, uploadsProjection } from './uploads.projection';

const folders: string[] = [];
after(() => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));

const alice = '0x00000000000000000000000000000000000000a1';
const bob = '0x00000000000000000000000000000000000000b2';
const cidOf = () => contentAddress(new Uint8Array(randomBytes(32)));

/** Given these events (stream, draft), the uploads read models. */
async function given(events: [string, EventDraft][]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-uploads-'));
  folders.push(dir);
  const store = new SqliteEventStore({ dataDir: dir });
  const readModels = SqliteReadModelStore.open(dir);
  const runner = new ProjectionRunner(store, readModels, [uploadsProjection]);
  await runner.start();
  let position = -1;
  let second = 0;
  for (const [stream, draft] of events) {
    const now = new Date(Date.parse('2026-11-01T00:00:00Z') + ++second * 1000);
    ({ position } = await store.append(
      stream,
      stamp([draft], { actor: alice, correlationId: 'c', now }),
      'any',
    ));
  }
  await runner.caughtUp(position);
  const result = {
    upload: (cid: string) => readModels.get<UploadDocument>('uploads', cid),
    allowance: async (who: string) => {
      const doc = await readModels.get<UploadAllowanceDocument>('upload_allowances', who);
      return doc && [doc.unclaimedBytes, doc.unclaimedBlobs];
    },
  };
  const close = async () => {
    await runner.stop();
    await store.close();
    await readModels.close();
  };
  return { ...result, close };
}

const recordSubmitted = (cid: string, size: number): EventDraft => ({
  type: 'RecordSubmitted',
  version: 1,
  data: {
    recordId: 'r',
    patient: alice,
    cid,
    category: 'lab_results',
    size,
    supersedes: null,
    metadata: { iv: 'i', ciphertext: 'c' },
    relayId: 'x',
  },
});

const messageWith = (blobId: string, size: number): EventDraft => ({
  type: 'MessageSent',
  version: 1,
  data: { conversationId: 'c', messageId: 'm', attachment: { blobId, size } },
});

describe('uploads projection', () => {
  test('each uploader of unclaimed bytes is charged once; a record claiming them gives every one back', async () => {
    const cid = await cidOf();
    const other = await cidOf();
    const view = await given([
      [UPLOADS_STREAM, blobUploaded({ cid, size: 100, uploader: alice })],
      [UPLOADS_STREAM, blobUploaded({ cid, size: 100, uploader: alice })],
      [UPLOADS_STREAM, blobUploaded({ cid, size: 100, uploader: bob })],
      [UPLOADS_STREAM, blobUploaded({ cid: other, size: 7, uploader: alice })],
    ]);
    assert.deepEqual(await view.allowance(alice), [107, 2]);
    assert.deepEqual(await view.allowance(bob), [100, 1]);
    assert.deepEqual((await view.upload(cid))?.uploaders, [alice, bob]);
    assert.equal((await view.upload(cid))?.lastUploadedAt, '2026-11-01T00:00:03.000Z');
    await view.close();

    const claimed = await given([
      [UPLOADS_STREAM, blobUploaded({ cid, size: 100, uploader: alice })],
      [UPLOADS_STREAM, blobUploaded({ cid, size: 100, uploader: bob })],
      [recordsStream(alice), recordSubmitted(cid, 100)],
      // Uploaded again after the claim: costs nothing, stays claimed.
      [UPLOADS_STREAM, blobUploaded({ cid, size: 100, uploader: bob })],
    ]);
    assert.deepEqual(await claimed.allowance(alice), [0, 0]);
    assert.deepEqual(await claimed.allowance(bob), [0, 0]);
    const doc = await claimed.upload(cid);
    assert.equal(doc?.claimed, true);
    assert.equal(doc?.claimedAt, '2026-11-01T00:00:03.000Z');
    await claimed.close();
  });

  test('a message attachment claims a blob; one claimed before its upload is never charged', async () => {
    const cid = await cidOf();
    const early = await cidOf();
    const view = await given([
      [UPLOADS_STREAM, blobUploaded({ cid, size: 50, uploader: alice })],
      [conversationStream('c'), messageWith(cid, 50)],
      [conversationStream('c'), messageWith(early, 9)],
      [UPLOADS_STREAM, blobUploaded({ cid: early, size: 9, uploader: bob })],
      // An attachment kept elsewhere, not a content address: nothing to claim.
      [conversationStream('c'), messageWith('tencent-file-123', 9)],
    ]);
    assert.equal((await view.upload(cid))?.claimed, true);
    assert.equal((await view.upload(early))?.claimed, true);
    assert.deepEqual(await view.allowance(alice), [0, 0]);
    assert.equal(await view.allowance(bob), null);
    assert.equal(await view.upload('tencent-file-123'), null);
    await view.close();
  });

  test('a discarded upload is forgotten and its uploaders get their allowance back; a claimed one stays', async () => {
    const cid = await cidOf();
    const kept = await cidOf();
    const view = await given([
      [UPLOADS_STREAM, blobUploaded({ cid, size: 30, uploader: alice })],
      [UPLOADS_STREAM, blobUploaded({ cid, size: 30, uploader: bob })],
      [UPLOADS_STREAM, blobUploaded({ cid: kept, size: 5, uploader: alice })],
      [recordsStream(alice), recordSubmitted(kept, 5)],
      [UPLOADS_STREAM, blobDiscarded({ cid, reason: 'unclaimed' })],
      [UPLOADS_STREAM, blobDiscarded({ cid: kept, reason: 'unclaimed' })],
    ]);
    assert.equal(await view.upload(cid), null);
    assert.deepEqual(await view.allowance(alice), [0, 0]);
    assert.deepEqual(await view.allowance(bob), [0, 0]);
    assert.equal((await view.upload(kept))?.claimed, true);
    await view.close();
  });
});
