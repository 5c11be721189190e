import { contentAddress, KUBO_CID_V1_ADD } from '@custos/records';
import { create, type HTTPRPCOptions, type KuboRPCClient } from 'kubo-rpc-client';
import {
  assertContentAddress,
  BlobIntegrityError,
  type BlobStore,
  BlobStoreClosedError,
  BlobStoreUnavailableError,
  type StoredBlob,
} from './blob-store.port';

/**
 * What `put` asks the node for: the settings of `contentAddress`, stated explicitly so that the
 * node's own Import defaults do not matter (what cannot be stated, e.g. Import.UnixFSFileMaxLinks on
 * older nodes, is caught by comparing the CID the node returns).
 */
export const KUBO_ADD_OPTIONS = Object.freeze({
  cidVersion: KUBO_CID_V1_ADD.cidVersion,
  rawLeaves: KUBO_CID_V1_ADD.rawLeaves,
  chunker: `size-${KUBO_CID_V1_ADD.chunkSize}`,
  hashAlg: 'sha2-256',
  pin: true,
});

/**
 * Kubo's global `offline` flag: read only what the node holds itself, so a CID it lacks fails at once
 * instead of a search of the network. The client's types do not list it, but it passes unknown options
 * on as query parameters.
 */
const offline = (signal: AbortSignal): HTTPRPCOptions => ({ offline: true, signal }) as HTTPRPCOptions;

export interface KuboBlobStoreOptions {
  /** IPFS_API_URL, e.g. http://127.0.0.1:5001 (user:password@ becomes HTTP Basic authentication). */
  url: string;
  /** Longest wait for one call to the node (default 60 s). */
  timeoutMs?: number;
}

/** The node added the blob under another CID than its content address: its Import settings differ. */
export class KuboSettingsError extends Error {
  override readonly name = 'KuboSettingsError';
}

/**
 * Blob store on a Kubo (IPFS) node through its RPC API (kubo-rpc-client). Blobs are added with the
 * settings of `contentAddress` and pinned, so the node keeps them and any IPFS node serves them under
 * the same address. Reads are offline and time-limited, and check the bytes hash to their address.
 */
export class KuboBlobStore implements BlobStore {
  readonly kind = 'kubo';
  private readonly client: KuboRPCClient;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(options: KuboBlobStoreOptions) {
    const url = new URL(options.url);
    const headers: Record<string, string> = {};
    // fetch refuses URLs with credentials: send them as a header instead.
    if (url.username || url.password) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    this.client = create({ url: url.toString(), headers });
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    this.assertOpen();
    const cid = await contentAddress(bytes);
    let added: Awaited<ReturnType<KuboRPCClient['add']>>;
    try {
      added = await this.client.add(bytes, { ...KUBO_ADD_OPTIONS, signal: this.deadline() });
    } catch (error) {
      throw unavailable(error);
    }
    const stored = added.cid.toString();
    if (stored !== cid) {
      // Do not keep a copy under an address nothing refers to.
      await this.client.pin.rm(added.cid, { signal: this.deadline() }).catch(() => undefined);
      throw new KuboSettingsError(
        `the IPFS node added the blob as ${stored}, but its content address is ${cid}: ` +
          'set the node’s Import settings to Kubo’s defaults (UnixFSFileMaxLinks 174, balanced layout)',
      );
    }
    return { cid, size: bytes.length };
  }

  async get(cid: string): Promise<Uint8Array | null> {
    this.assertOpen();
    assertContentAddress(cid);
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of this.client.cat(cid, offline(this.deadline()))) chunks.push(chunk);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw unavailable(error);
    }
    const bytes = Buffer.concat(chunks);
    // A stream cut short after the status line would otherwise pass for the blob.
    if ((await contentAddress(bytes)) !== cid)
      throw new BlobIntegrityError(`the IPFS node returned bytes that do not hash to ${cid}`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async size(cid: string): Promise<number | null> {
    this.assertOpen();
    assertContentAddress(cid);
    try {
      // The file's size from its root block (UnixFS), without fetching the rest.
      const stat = await this.client.files.stat(`/ipfs/${cid}`, offline(this.deadline()));
      return Number(stat.size);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw unavailable(error);
    }
  }

  async delete(cid: string): Promise<void> {
    this.assertOpen();
    assertContentAddress(cid);
    try {
      await this.client.pin.rm(cid, { signal: this.deadline() });
    } catch (error) {
      // Not pinned (never added here, or unpinned before): nothing to do.
      if (/not pinned/i.test((error as Error).message)) return;
      throw unavailable(error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private deadline(): AbortSignal {
    return AbortSignal.timeout(this.timeoutMs);
  }

  private assertOpen(): void {
    if (this.closed) throw new BlobStoreClosedError();
  }
}

/**
 * Any other failure of a call to the node: unreachable, past the deadline, or an error it answered
 * (out of disk, shutting down). The URL is not in the message, and its credentials are never in the
 * URL the client uses (see the constructor).
 */
function unavailable(error: unknown): BlobStoreUnavailableError {
  const reason = error instanceof Error ? error.message : String(error);
  return new BlobStoreUnavailableError(`the IPFS node did not answer: ${reason}`, { cause: error });
}

/**
 * Kubo's answer for a block it does not hold offline: HTTP 500 with
 * `{"Message":"block was not found locally (offline): ipld: could not find <cid>","Code":0,"Type":"error"}`
 * (older nodes: "... not found").
 */
function isNotFound(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /could not find|not found/i.test(message);
}
