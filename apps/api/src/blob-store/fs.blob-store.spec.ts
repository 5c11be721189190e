import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { contentAddress } from '@custos/records';
import { blobStoreConformance } from './blob-store.conformance';
import { createBlobStore } from './blob-store.factory';
import { BlobIntegrityError } from './blob-store.port';
import { BLOBS_FOLDER_NAME, FsBlobStore } from './fs.blob-store';

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'custos-blobs-'));
  folders.push(folder);
  return folder;
}

/** Every file under the blobs folder but the temporary ones, by name. */
function storedFiles(store: FsBlobStore): string[] {
  return readdirSync(store.folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && path.basename(entry.parentPath) !== 'tmp')
    .map((entry) => entry.name);
}

blobStoreConformance('files', async () => {
  const dataDir = tempFolder();
  const store = new FsBlobStore({ dataDir });
  return {
    store,
    reopen: async () => new FsBlobStore({ dataDir }),
    copiesOf: async (cid) => storedFiles(store).filter((name) => name === cid).length,
    dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
});

describe('file blob store', () => {
  test('is the default without IPFS_API_URL: one file per blob under <data>/blobs/<shard>/<cid>', async () => {
    const dataDir = path.join(tempFolder(), 'nested', 'data');
    const store = createBlobStore({ CUSTOS_DATA_DIR: dataDir, IPFS_API_URL: undefined });
    assert.ok(store instanceof FsBlobStore);
    assert.equal(store.kind, 'files');
    const { cid } = await store.put(new TextEncoder().encode('hello world\n'));
    assert.equal(cid, 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4');
    // Kubo's flatfs next-to-last/2: the two characters before the last one.
    const file = path.join(dataDir, BLOBS_FOLDER_NAME, cid.slice(-3, -1), cid);
    assert.equal(store.fileOf(cid), file);
    assert.ok(existsSync(file));
    assert.deepEqual(readdirSync(path.join(dataDir, BLOBS_FOLDER_NAME, 'tmp')), [], 'no temporary file left');
    await store.close();
  });

  test('blobs spread over shard folders', async () => {
    const store = new FsBlobStore({ dataDir: tempFolder() });
    const shards = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { cid } = await store.put(new TextEncoder().encode(`blob ${i}`));
      shards.add(path.basename(path.dirname(store.fileOf(cid))));
    }
    assert.ok(shards.size > 10, `${shards.size} shards for 20 blobs`);
    await store.close();
  });

  test('a blob changed on disk is reported, not served', async () => {
    const store = new FsBlobStore({ dataDir: tempFolder() });
    const { cid } = await store.put(new TextEncoder().encode('sealed record'));
    writeFileSync(store.fileOf(cid), 'sealed recorD');
    await assert.rejects(store.get(cid), BlobIntegrityError);
    await store.close();
  });

  test('putting stored bytes again writes nothing new', async () => {
    const store = new FsBlobStore({ dataDir: tempFolder() });
    const bytes = new TextEncoder().encode('first');
    const { cid } = await store.put(bytes);
    assert.equal(cid, await contentAddress(bytes));
    await store.put(bytes);
    assert.deepEqual(storedFiles(store), [cid]);
    await store.close();
  });

  test('temporary files left by a crash are removed at the next start once stale, recent ones kept', () => {
    const dataDir = tempFolder();
    new FsBlobStore({ dataDir });
    const temporary = path.join(dataDir, BLOBS_FOLDER_NAME, 'tmp');
    writeFileSync(path.join(temporary, 'stale'), 'half a blob');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(path.join(temporary, 'stale'), twoHoursAgo, twoHoursAgo);
    writeFileSync(path.join(temporary, 'in-progress'), 'another process is writing');
    new FsBlobStore({ dataDir });
    assert.deepEqual(readdirSync(temporary), ['in-progress']);
  });

  test('refuses an address before touching the disk (no path from outside)', async () => {
    const store = new FsBlobStore({ dataDir: tempFolder() });
    assert.throws(() => store.fileOf('../../x'), TypeError);
    await store.close();
  });
});
