import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { contentAddress } from '@custos/records';
import {
  assertContentAddress,
  BlobIntegrityError,
  type BlobStore,
  BlobStoreClosedError,
  type StoredBlob,
} from './blob-store.port';

/** The folder under CUSTOS_DATA_DIR that holds the blobs. */
export const BLOBS_FOLDER_NAME = 'blobs';
/** Half-written files live here (same file system as the blobs, so a rename is atomic). */
const TEMPORARY_FOLDER_NAME = 'tmp';
/** Temporary files older than this were left by a process that died mid-write. */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

export interface FsBlobStoreOptions {
  /** CUSTOS_DATA_DIR: blobs go to `<dataDir>/blobs/`. */
  dataDir: string;
}

/**
 * The embedded blob store: one file per blob, named by its content address, under
 * `<dataDir>/blobs/<shard>/<cid>`. The shard is the two characters before the CID's last one (what
 * Kubo's flatfs calls next-to-last/2): every CIDv1 starts with the same `bafkrei`/`bafybei`, its end
 * is evenly spread, giving up to 1024 folders. A blob is written to a temporary file, fsynced and
 * renamed into place, so a crash leaves either the whole blob or none; reads check the bytes still
 * hash to their address.
 */
export class FsBlobStore implements BlobStore {
  readonly kind = 'files';
  /** `<dataDir>/blobs`. */
  readonly folder: string;
  private readonly temporaryFolder: string;
  private closed = false;

  constructor(options: FsBlobStoreOptions) {
    this.folder = path.resolve(options.dataDir, BLOBS_FOLDER_NAME);
    this.temporaryFolder = path.join(this.folder, TEMPORARY_FOLDER_NAME);
    mkdirSync(this.temporaryFolder, { recursive: true });
    this.removeStaleTemporaryFiles();
  }

  /** Where the blob with this address is (or would be) kept. */
  fileOf(cid: string): string {
    assertContentAddress(cid);
    return path.join(this.folder, cid.slice(-3, -1), cid);
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    this.assertOpen();
    const cid = await contentAddress(bytes);
    const file = this.fileOf(cid);
    if ((await fileSize(file)) === null) await this.writeAtomically(file, bytes);
    return { cid, size: bytes.length };
  }

  async get(cid: string): Promise<Uint8Array | null> {
    this.assertOpen();
    const file = this.fileOf(cid);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if ((await contentAddress(bytes)) !== cid)
      throw new BlobIntegrityError(`the stored blob ${cid} no longer hashes to its address`);
    return bytes;
  }

  async size(cid: string): Promise<number | null> {
    this.assertOpen();
    return fileSize(this.fileOf(cid));
  }

  async delete(cid: string): Promise<void> {
    this.assertOpen();
    const file = this.fileOf(cid);
    await rm(file, { force: true });
    await syncFolder(path.dirname(file));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
    const folder = path.dirname(file);
    await mkdir(folder, { recursive: true });
    // A name of its own per write: concurrent puts of the same bytes each write and rename a whole copy.
    const temporary = path.join(this.temporaryFolder, `${path.basename(file)}.${randomUUID()}`);
    try {
      const handle = await open(temporary, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await syncFolder(folder);
  }

  private removeStaleTemporaryFiles(): void {
    const now = Date.now();
    for (const name of readdirSync(this.temporaryFolder)) {
      const file = path.join(this.temporaryFolder, name);
      try {
        if (now - statSync(file).mtimeMs > STALE_TEMPORARY_MS) rmSync(file, { force: true });
      } catch {
        // Another process renamed or removed it meanwhile.
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BlobStoreClosedError();
  }
}

/** The length of the file at `file`, or null when there is none. */
async function fileSize(file: string): Promise<number | null> {
  try {
    const found = await stat(file);
    return found.isFile() ? found.size : null;
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException)?.code === 'ENOENT';

/** Makes the rename durable: the folder's entry is on disk once this returns (where the OS allows it). */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot open or fsync a folder (Windows); the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}
