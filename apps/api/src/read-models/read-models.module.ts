import { Global, Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { HealthService } from '../health/health.service';
import type { ReadModelStoreAdapter } from './read-model.common';
import { createReadModelStore, type ReadModelsConfig } from './read-model.factory';

/** Injection token of the ReadModelStore (SQLite or MongoDB, per the configuration). */
export const READ_MODEL_STORE = Symbol('READ_MODEL_STORE');

/**
 * Provides the read-model store to every module and reports it on /health. Global modules shut down
 * last, so the store closes only after the modules that use it (the projections) have stopped.
 */
@Global()
@Module({
  providers: [
    {
      provide: READ_MODEL_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: ReadModelsConfig) => createReadModelStore(config),
    },
  ],
  exports: [READ_MODEL_STORE],
})
export class ReadModelsModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStoreAdapter,
    private readonly health: HealthService,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'readModels',
      critical: true,
      check: async () => {
        await this.store.ping();
        return { status: 'up', detail: this.store.kind };
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
