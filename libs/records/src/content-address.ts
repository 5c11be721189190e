/**
 * Content addresses of record blobs. A record's encrypted blob is addressed by the IPFS CIDv1 that
 * Kubo's `ipfs add --cid-version 1` prints for the same bytes, so the browser can compute the address
 * before uploading, the API can check what a blob store returns, and the blob can later be moved to or
 * fetched from any IPFS node without changing its address. Browser-safe: no Node built-ins.
 */
import { id } from 'ethers';
import type { ByteStream, ImporterOptions, WritableStorage } from 'ipfs-unixfs-importer';
import { importFile } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import { base32 } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';

/** Multicodec codes (https://github.com/multiformats/multicodec/blob/master/table.csv). */
const RAW_CODEC = 0x55;
const DAG_PB_CODEC = 0x70;
const SHA2_256 = 0x12;
const SHA2_256_BYTES = 32;

/** The UnixFS import settings that decide a file's CID. The hash is always sha2-256. */
export interface UnixfsImportSettings {
  readonly cidVersion: 0 | 1;
  /** Leaves are the file's bytes as `raw` blocks; otherwise UnixFS `File` nodes (Kubo's CIDv0 leaves). */
  readonly rawLeaves: boolean;
  /** Fixed-size chunker: bytes per leaf (Kubo `--chunker=size-N`). */
  readonly chunkSize: number;
  /** Balanced layout: most links per node before another level is added (Kubo `Import.UnixFSFileMaxLinks`). */
  readonly maxLinksPerNode: number;
}

/**
 * What Kubo's `ipfs add --cid-version 1` does with its default Import settings: raw leaves (CIDv1
 * implies them), the `size-262144` chunker, a balanced DAG of at most 174 links per node, sha2-256.
 * A file of one chunk (up to 256 KiB, the empty file included) is that raw leaf itself (`bafkrei…`);
 * a larger one is a dag-pb root (`bafybei…`) holding UnixFS `File` data over the leaves.
 */
export const KUBO_CID_V1_ADD: UnixfsImportSettings = Object.freeze({
  cidVersion: 1,
  rawLeaves: true,
  chunkSize: 262_144,
  maxLinksPerNode: 174,
});

// Only the CID is wanted here: each block is hashed, handed to this store and dropped at once, so no
// more than the blocks in flight (blockWriteConcurrency chunks) and the current level's links are in memory.
const discardBlocks: WritableStorage = { put: (cid) => cid };

function importerOptions(settings: UnixfsImportSettings): ImporterOptions {
  return {
    // Everything that decides the CID, stated rather than left to the library's defaults.
    cidVersion: settings.cidVersion,
    rawLeaves: settings.rawLeaves,
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: settings.chunkSize }),
    layout: balanced({ maxChildrenPerNode: settings.maxLinksPerNode }),
    wrapWithDirectory: false,
    // Only how much work is in flight, not the result.
    blockWriteConcurrency: 4,
    fileImportConcurrency: 1,
  };
}

/** The root of a file imported into UnixFS. */
export interface UnixfsFile {
  cid: CID;
  /** Bytes of all the file's blocks (Kubo's cumulative size, the `Size` that `ipfs add` reports). */
  dagSize: number;
}

/**
 * Imports a file with these bytes into UnixFS with `settings`, handing each block to `blocks` (by
 * default dropped: only the root is wanted). Takes a byte stream so that large inputs need not be in
 * memory at once; `contentAddress` is the one to use for record blobs.
 */
export async function unixfsFile(
  content: Uint8Array | ByteStream,
  settings: UnixfsImportSettings,
  blocks: WritableStorage = discardBlocks,
): Promise<UnixfsFile> {
  const { cid, size } = await importFile({ content }, blocks, importerOptions(settings));
  return { cid, dagSize: Number(size) };
}

/**
 * The content address of a record blob: the CIDv1 (base32, `bafk…` or `bafy…`) that
 * `ipfs add --cid-version 1` prints for these bytes on a Kubo node with default Import settings.
 */
export async function contentAddress(bytes: Uint8Array): Promise<string> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('contentAddress takes the blob as a Uint8Array');
  const { cid } = await unixfsFile(bytes, KUBO_CID_V1_ADD);
  return cid.toString(base32);
}

/**
 * True when `text` is a content address as `contentAddress` writes it: a CIDv1 in lower-case base32,
 * codec raw or dag-pb, sha2-256. Other spellings of the same CID (base36, base58, upper case) are
 * refused, because the text itself is the key of the blob and the preimage of the record id.
 */
export function isContentAddress(text: string): boolean {
  if (typeof text !== 'string' || text.length === 0 || text.length > 100) return false;
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch {
    return false;
  }
  return (
    cid.version === 1 &&
    (cid.code === RAW_CODEC || cid.code === DAG_PB_CODEC) &&
    cid.multihash.code === SHA2_256 &&
    cid.multihash.size === SHA2_256_BYTES &&
    cid.toString(base32) === text
  );
}

/**
 * The on-chain record id of a blob: `keccak256(utf8(cid))` as a 0x-prefixed 32-byte hex string
 * (ethers `id(cid)`), i.e. the hash of the content-address text, so the chain holds no health data
 * and anyone holding the blob can recompute the id. Throws a TypeError for anything that is not a
 * content address in its one canonical spelling (see `isContentAddress`).
 */
export function recordIdOf(cid: string): string {
  if (!isContentAddress(cid)) throw new TypeError('recordIdOf takes a content address (a base32 CIDv1)');
  return id(cid);
}
