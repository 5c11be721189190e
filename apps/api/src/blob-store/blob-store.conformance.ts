/**
 * THE conformance suite of the blob store port: every adapter runs it (see the *.blob-store.spec.ts
 * files). It only uses the port, so it holds for a fresh folder and for a shared Kubo node alike:
 * every test stores random bytes of its own.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { contentAddress } from '@custos/records';
import { type BlobStore, BlobStoreClosedError } from './blob-store.port';

export interface BlobStoreUnderTest {
  store: BlobStore;
  /** Another store on the same folder or node, as after a restart. */
  reopen(): Promise<BlobStore>;
  /**
   * How many copies of the blob are kept, where the adapter can tell (files on disk); undefined where
   * it cannot (a shared Kubo node deduplicates blocks by itself).
   */
  copiesOf?(cid: string): Promise<number>;
  /** Removes what the test left behind; called after the stores are closed. */
  dispose(): Promise<void>;
}

/** Returns a new store for one test; the suite closes it and disposes of it when the test ends. */
export type BlobStoreFactory = () => Promise<BlobStoreUnderTest>;

const EMPTY_FILE = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

export function blobStoreConformance(name: string, factory: BlobStoreFactory): void {
  describe(`blob store conformance: ${name}`, () => {
    /** Runs `body` with a fresh store, and closes and disposes of everything afterwards. */
    const withStore = async (
      body: (subject: BlobStoreUnderTest, opened: BlobStore[]) => Promise<void>,
    ): Promise<void> => {
      const subject = await factory();
      const opened = [subject.store];
      try {
        await body(subject, opened);
      } finally {
        for (const store of opened) await store.close();
        await subject.dispose();
      }
    };

    test('put returns the content address and size; get returns the exact bytes; size says how many', () =>
      withStore(async ({ store }) => {
        const bytes = new Uint8Array(randomBytes(1000));
        const stored = await store.put(bytes);
        assert.deepEqual(stored, { cid: await contentAddress(bytes), size: 1000 });
        assert.match(stored.cid, /^bafkrei/);
        assert.equal(await store.size(stored.cid), 1000);
        const read = await store.get(stored.cid);
        assert.ok(read instanceof Uint8Array);
        assert.deepEqual(read, bytes);
      }));

    test('a multi-chunk blob (1 MiB + 1 byte) round-trips under its dag-pb address', () =>
      withStore(async ({ store }) => {
        const bytes = new Uint8Array(randomBytes(1024 * 1024 + 1));
        const { cid, size } = await store.put(bytes);
        assert.equal(cid, await contentAddress(bytes));
        assert.match(cid, /^bafybei/);
        assert.equal(size, bytes.length);
        assert.equal(await store.size(cid), bytes.length);
        assert.deepEqual(await store.get(cid), bytes);
      }));

    test('the empty blob is stored and read like any other', () =>
      withStore(async ({ store }) => {
        assert.deepEqual(await store.put(new Uint8Array(0)), { cid: EMPTY_FILE, size: 0 });
        assert.equal(await store.size(EMPTY_FILE), 0);
        assert.deepEqual(await store.get(EMPTY_FILE), new Uint8Array(0));
      }));

    test('the same bytes twice give the same address and are stored once', () =>
      withStore(async (subject) => {
        const bytes = new Uint8Array(randomBytes(4096));
        const first = await subject.store.put(bytes);
        const second = await subject.store.put(bytes.slice());
        assert.deepEqual(second, first);
        if (subject.copiesOf) assert.equal(await subject.copiesOf(first.cid), 1);
        assert.deepEqual(await subject.store.get(first.cid), bytes);
      }));

    test('concurrent puts of the same bytes all succeed with one address and one copy', () =>
      withStore(async (subject) => {
        const bytes = new Uint8Array(randomBytes(300 * 1024));
        const results = await Promise.all(Array.from({ length: 6 }, () => subject.store.put(bytes)));
        const cid = await contentAddress(bytes);
        for (const result of results) assert.deepEqual(result, { cid, size: bytes.length });
        if (subject.copiesOf) assert.equal(await subject.copiesOf(cid), 1);
        assert.deepEqual(await subject.store.get(cid), bytes);
      }));

    test('an address never stored: get and size give null, and nothing waits for the network', () =>
      withStore(async ({ store }) => {
        const unknown = await contentAddress(new Uint8Array(randomBytes(64)));
        const unknownLarge = await contentAddress(new Uint8Array(randomBytes(300 * 1024)));
        const started = Date.now();
        assert.equal(await store.get(unknown), null);
        assert.equal(await store.size(unknown), null);
        assert.equal(await store.get(unknownLarge), null);
        assert.equal(await store.size(unknownLarge), null);
        assert.ok(Date.now() - started < 5000, 'answered without searching the network');
      }));

    test('what is not a content address is refused with a TypeError', () =>
      withStore(async ({ store }) => {
        for (const bad of [
          '',
          '../../etc/passwd',
          'QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf',
          'BAFKREIFJJCIE6LYPI6NY7AMXNFFTAGCLBUXNDQONFIPMB64F2KM2DEVEI4',
        ]) {
          await assert.rejects(store.get(bad), TypeError, bad);
          await assert.rejects(store.size(bad), TypeError, bad);
        }
      }));

    test('blobs survive a new store on the same folder or node (a restart)', () =>
      withStore(async (subject, opened) => {
        const bytes = new Uint8Array(randomBytes(2048));
        const { cid } = await subject.store.put(bytes);
        await subject.store.close();
        const reopened = await subject.reopen();
        opened.push(reopened);
        assert.equal(await reopened.size(cid), bytes.length);
        assert.deepEqual(await reopened.get(cid), bytes);
        assert.deepEqual(await reopened.put(bytes), { cid, size: bytes.length });
      }));

    test('a deleted blob is no longer kept, and the same bytes can be stored again', () =>
      withStore(async (subject) => {
        const { store } = subject;
        const bytes = new Uint8Array(randomBytes(4096));
        const kept = new Uint8Array(randomBytes(4096));
        const { cid } = await store.put(bytes);
        const other = await store.put(kept);
        await store.delete(cid);
        if (subject.copiesOf) {
          assert.equal(await subject.copiesOf(cid), 0);
          assert.equal(await store.size(cid), null);
          assert.equal(await store.get(cid), null);
        }
        // The other blob stays; deleting twice, or an address never stored, is harmless.
        assert.deepEqual(await store.get(other.cid), kept);
        await store.delete(cid);
        await store.delete(await contentAddress(new Uint8Array(randomBytes(64))));
        await assert.rejects(store.delete('../../etc/passwd'), TypeError);
        assert.deepEqual(await store.put(bytes), { cid, size: bytes.length });
        assert.deepEqual(await store.get(cid), bytes);
      }));

    test('a closed store refuses every call', () =>
      withStore(async ({ store }) => {
        const { cid } = await store.put(new Uint8Array([1, 2, 3]));
        await store.close();
        await assert.rejects(store.put(new Uint8Array([4])), BlobStoreClosedError);
        await assert.rejects(store.get(cid), BlobStoreClosedError);
        await assert.rejects(store.size(cid), BlobStoreClosedError);
        await assert.rejects(store.delete(cid), BlobStoreClosedError);
      }));
  });
}
