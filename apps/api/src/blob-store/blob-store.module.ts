import {
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { HealthService } from '../health/health.service';
import { createBlobStore, type BlobStoreConfig } from './blob-store.factory';
import { BLOB_STORE, type BlobStore } from './blob-store.port';

/** The address of the empty file: asking for it proves the store answers, whether or not it holds it. */
const PROBE_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

/** Reports the store in GET /health and closes it when the application shuts down. */
@Injectable()
export class BlobStoreLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(BLOB_STORE) private readonly store: BlobStore,
    @Optional() private readonly health?: HealthService,
  ) {}

  onModuleInit(): void {
    this.health?.register({
      name: 'blobStore',
      // Without it records cannot be stored or read, but consent, messaging and audit still work.
      critical: false,
      check: async () => {
        await this.store.size(PROBE_CID);
        return { status: 'up', detail: this.store.kind };
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * The record blob store for every module (global): a Kubo node when IPFS_API_URL is set, else
 * content-addressed files under CUSTOS_DATA_DIR (see createBlobStore).
 */
@Global()
@Module({
  providers: [
    {
      provide: BLOB_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: BlobStoreConfig): BlobStore => createBlobStore(config),
    },
    BlobStoreLifecycle,
  ],
  exports: [BLOB_STORE],
})
export class BlobStoreModule {}
