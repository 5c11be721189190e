import { isContentAddress } from '@custos/records';

/** Injection token of the BlobStore: `@Inject(BLOB_STORE) private readonly blobs: BlobStore`. */
export const BLOB_STORE = Symbol('BLOB_STORE');

export interface StoredBlob {
  /** The blob's content address: `contentAddress(bytes)` of @custos/records (an IPFS CIDv1). */
  cid: string;
  /** The blob's length in bytes. */
  size: number;
}

/**
 * Content-addressed storage of encrypted record blobs. The store never sees plaintext: blobs are
 * sealed in the browser (see `sealRecord` in @custos/e2ee). Every adapter passes
 * blob-store.conformance.ts.
 */
export interface BlobStore {
  /** Which adapter this is, for /health and logs. */
  readonly kind: 'files' | 'kubo';
  /**
   * Stores the bytes under their content address and returns it. Idempotent: the same bytes give the
   * same address and are stored once, also when put concurrently.
   */
  put(bytes: Uint8Array): Promise<StoredBlob>;
  /** The bytes stored under `cid`, or null when there are none. TypeError for a non-address. */
  get(cid: string): Promise<Uint8Array | null>;
  /**
   * How many bytes are stored under `cid`, or null when none are, from the store's own record (without
   * reading them: `get` is what checks them against their address). TypeError for a non-address.
   */
  size(cid: string): Promise<number | null>;
  /**
   * Stops keeping the blob, when nothing refers to it any more (see the uploads sweep). The files
   * adapter removes it at once; a Kubo node unpins it, and its garbage collection frees the blocks
   * (until then it may still serve them). Harmless for an address not kept. TypeError for a
   * non-address.
   */
  delete(cid: string): Promise<void>;
  /** Releases the store; later calls reject. */
  close(): Promise<void>;
}

/** Throws a TypeError unless `cid` is a content address (also what keeps it safe as a file name). */
export function assertContentAddress(cid: string): void {
  if (!isContentAddress(cid))
    throw new TypeError('not a content address (a base32 CIDv1, raw or dag-pb, sha2-256)');
}

/** The store's content did not hash to its address: it was changed or damaged where it is kept. */
export class BlobIntegrityError extends Error {
  override readonly name = 'BlobIntegrityError';
}

/**
 * The store failed to answer (an IPFS node down, timing out or failing): a 503 to the caller, who may
 * retry, rather than a 500. Its message names the reason, never the node's credentials.
 */
export class BlobStoreUnavailableError extends Error {
  override readonly name = 'BlobStoreUnavailableError';
}

/** The store was closed. */
export class BlobStoreClosedError extends Error {
  override readonly name = 'BlobStoreClosedError';
  constructor() {
    super('the blob store is closed');
  }
}
