export * from './blob-store.factory';
export * from './blob-store.module';
export * from './blob-store.port';
export { BLOBS_FOLDER_NAME, FsBlobStore, type FsBlobStoreOptions } from './fs.blob-store';
export {
  KUBO_ADD_OPTIONS,
  KuboBlobStore,
  type KuboBlobStoreOptions,
  KuboSettingsError,
} from './kubo.blob-store';
