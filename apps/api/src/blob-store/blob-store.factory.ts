import type { AppConfig } from '../config/config.schema';
import type { BlobStore } from './blob-store.port';
import { FsBlobStore } from './fs.blob-store';
import { KuboBlobStore } from './kubo.blob-store';

/** The settings the blob store reads (a subset of AppConfig, so tests can pass just these). */
export type BlobStoreConfig = Pick<AppConfig, 'CUSTOS_DATA_DIR' | 'IPFS_API_URL'>;

/**
 * Picks the adapter: a Kubo node when IPFS_API_URL is set, otherwise content-addressed files under
 * `<CUSTOS_DATA_DIR>/blobs` (the folder is created). Neither connects to anything here.
 */
export function createBlobStore(config: BlobStoreConfig): BlobStore {
  if (config.IPFS_API_URL) return new KuboBlobStore({ url: config.IPFS_API_URL });
  return new FsBlobStore({ dataDir: config.CUSTOS_DATA_DIR });
}
