/**
 * The Kubo adapter runs the conformance suite against a real Kubo node when IPFS_API_URL is set, and
 * otherwise against test/ipfs/fake-kubo.ts, a stand-in for the RPC API of a daemon that cannot be run
 * or reached from the project's machines.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { contentAddress } from '@custos/records';
import { type FakeKubo, startFakeKubo } from '../../../../test/ipfs/fake-kubo';
import { blobStoreConformance } from './blob-store.conformance';
import { createBlobStore } from './blob-store.factory';
import { BlobIntegrityError, BlobStoreUnavailableError } from './blob-store.port';
import { KUBO_ADD_OPTIONS, KuboBlobStore, KuboSettingsError } from './kubo.blob-store';

const IPFS_API_URL = process.env.IPFS_API_URL?.trim();

if (IPFS_API_URL) {
  blobStoreConformance('kubo (IPFS_API_URL)', async () => ({
    store: new KuboBlobStore({ url: IPFS_API_URL }),
    reopen: async () => new KuboBlobStore({ url: IPFS_API_URL }),
    dispose: async () => undefined,
  }));
} else {
  blobStoreConformance('kubo (fake RPC API; set IPFS_API_URL for a real node)', async () => {
    const kubo = await startFakeKubo();
    return {
      store: new KuboBlobStore({ url: kubo.url }),
      reopen: async () => new KuboBlobStore({ url: kubo.url }),
      dispose: () => kubo.close(),
    };
  });
}

describe('kubo blob store: what it asks of the node (fake RPC API)', () => {
  let kubo: FakeKubo;
  let store: KuboBlobStore;
  before(async () => {
    kubo = await startFakeKubo();
    store = new KuboBlobStore({ url: kubo.url });
  });
  after(async () => {
    await store.close();
    await kubo.close();
  });

  const lastRequest = (path: string) => {
    const found = kubo.requests.filter((r) => r.path === path).at(-1);
    assert.ok(found, `a request to ${path}`);
    return found;
  };

  test('is chosen when IPFS_API_URL is set', async () => {
    const chosen = createBlobStore({ CUSTOS_DATA_DIR: '/nonexistent', IPFS_API_URL: kubo.url });
    assert.ok(chosen instanceof KuboBlobStore);
    assert.equal(chosen.kind, 'kubo');
    await chosen.close();
  });

  test('add states every setting of the content address and pins', async () => {
    const bytes = new Uint8Array(randomBytes(600 * 1024));
    const { cid } = await store.put(bytes);
    const { query } = lastRequest('/api/v0/add');
    assert.equal(query.get('cid-version'), '1');
    assert.equal(query.get('raw-leaves'), 'true');
    assert.equal(query.get('chunker'), 'size-262144');
    assert.equal(query.get('hash'), 'sha2-256');
    assert.equal(query.get('pin'), 'true');
    assert.deepEqual(KUBO_ADD_OPTIONS, {
      cidVersion: 1,
      rawLeaves: true,
      chunker: 'size-262144',
      hashAlg: 'sha2-256',
      pin: true,
    });
    assert.ok(kubo.pinned.has(cid));
  });

  test('cat and files/stat are offline, so an absent CID cannot wait on the network', async () => {
    const absent = await contentAddress(new Uint8Array(randomBytes(32)));
    assert.equal(await store.get(absent), null);
    assert.equal(lastRequest('/api/v0/cat').query.get('offline'), 'true');
    assert.equal(lastRequest('/api/v0/cat').query.get('arg'), absent);
    assert.equal(await store.size(absent), null);
    assert.equal(lastRequest('/api/v0/files/stat').query.get('offline'), 'true');
    assert.equal(lastRequest('/api/v0/files/stat').query.get('arg'), `/ipfs/${absent}`);
  });

  test('a node with other Import settings is refused loudly, and its copy unpinned', async () => {
    const narrow = await startFakeKubo({ fileMaxLinks: 2 });
    const misconfigured = new KuboBlobStore({ url: narrow.url });
    try {
      // Five chunks: with at most 2 links per node the DAG, and so the CID, differ.
      const bytes = new Uint8Array(randomBytes(4 * 262_144 + 1));
      await assert.rejects(misconfigured.put(bytes), (error: unknown) => {
        assert.ok(error instanceof KuboSettingsError);
        assert.match(error.message, /content address is bafybei/);
        assert.match(error.message, /UnixFSFileMaxLinks/);
        return true;
      });
      assert.equal(narrow.pinned.size, 0, 'the wrongly addressed copy is unpinned');
      // One chunk has no links: the same CID on any node, so small blobs still work there.
      assert.ok(await misconfigured.put(new Uint8Array(randomBytes(1000))));
    } finally {
      await misconfigured.close();
      await narrow.close();
    }
  });

  test('bytes from the node that do not hash to the CID are not served', async () => {
    const { cid } = await store.put(new Uint8Array(randomBytes(2000)));
    kubo.serveInstead.set(cid, new Uint8Array(randomBytes(1000)));
    try {
      await assert.rejects(store.get(cid), BlobIntegrityError);
    } finally {
      kubo.serveInstead.delete(cid);
    }
  });

  test('credentials in IPFS_API_URL travel as HTTP Basic authentication, not in the URL', async () => {
    const url = new URL(kubo.url);
    url.username = 'custos';
    url.password = 'p@ss word';
    const withCredentials = new KuboBlobStore({ url: url.toString() });
    try {
      await withCredentials.size(await contentAddress(new Uint8Array([1])));
      const { authorization } = lastRequest('/api/v0/files/stat');
      assert.equal(authorization, `Basic ${Buffer.from('custos:p@ss word').toString('base64')}`);
    } finally {
      await withCredentials.close();
    }
  });

  test('delete unpins the blob (the node’s garbage collection frees it), and is harmless when not pinned', async () => {
    const { cid } = await store.put(new Uint8Array(randomBytes(512)));
    assert.ok(kubo.pinned.has(cid));
    await store.delete(cid);
    assert.equal(lastRequest('/api/v0/pin/rm').query.get('arg'), cid);
    assert.ok(!kubo.pinned.has(cid));
    await store.delete(cid);
  });

  test('a node that answers with another error (out of disk) is unavailable too, not "not found"', async () => {
    const failing = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ Message: 'write /data/blocks: no space left on device', Code: 0, Type: 'error' }),
      );
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const { port } = failing.address() as AddressInfo;
    const store = new KuboBlobStore({ url: `http://127.0.0.1:${port}` });
    try {
      const cid = await contentAddress(new Uint8Array([1]));
      for (const call of [
        () => store.put(new Uint8Array([1])),
        () => store.get(cid),
        () => store.size(cid),
        () => store.delete(cid),
      ]) {
        await assert.rejects(call, (error: unknown) => {
          assert.ok(error instanceof BlobStoreUnavailableError, String(error));
          assert.match(error.message, /no space left on device/);
          return true;
        });
      }
    } finally {
      await store.close();
      await new Promise((resolve) => failing.close(resolve));
    }
  });

  test('an unreachable node fails each call as unavailable (no hang, no credentials in the error)', async () => {
    const gone = await startFakeKubo();
    const url = new URL(gone.url);
    await gone.close();
    url.username = 'custos';
    url.password = 'secret-password';
    const unreachable = new KuboBlobStore({ url: url.toString(), timeoutMs: 2000 });
    try {
      const cid = await contentAddress(new Uint8Array([1]));
      for (const call of [
        () => unreachable.put(new Uint8Array([1, 2, 3])),
        () => unreachable.get(cid),
        () => unreachable.size(cid),
        () => unreachable.delete(cid),
      ]) {
        await assert.rejects(call, (error: unknown) => {
          // The store is unavailable (a 503 for the API's callers), not the caller wrong.
          assert.ok(error instanceof BlobStoreUnavailableError, String(error));
          assert.match(error.message, /the IPFS node did not answer/);
          assert.doesNotMatch(`${error.message} ${String(error.cause ?? '')}`, /secret-password/);
          return true;
        });
      }
    } finally {
      await unreachable.close();
    }
  });
});
