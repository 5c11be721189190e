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
import type { AppConfig } from '../config/config.schema';
import { HealthService } from '../health/health.service';
import { createEventStore } from './event-store.factory';
import type { EventStore } from './event-store.port';

/** Injection token of the EventStore: `@Inject(EVENT_STORE) private readonly events: EventStore`. */
export const EVENT_STORE = Symbol('EVENT_STORE');

/** Reports the store in GET /health and closes it when the application shuts down. */
@Injectable()
export class EventStoreLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() private readonly health?: HealthService,
  ) {}

  onModuleInit(): void {
    this.health?.register({
      name: 'eventStore',
      critical: true,
      // One cheap read proves the file or the server answers.
      check: async () => {
        await this.store.headPosition();
        return { status: 'up' };
      },
    });
  }

  // On shutdown rather than on module destroy: other modules' onModuleDestroy (projections closing
  // their subscriptions, handlers finishing an append) runs first.
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * The event store for every module (global): the adapter chosen from the configuration by
 * createEventStore (EventStoreDB when EVENTSTORE_URL is set, else SQLite under CUSTOS_DATA_DIR).
 */
@Global()
@Module({
  providers: [
    {
      provide: EVENT_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): EventStore => createEventStore(config),
    },
    EventStoreLifecycle,
  ],
  exports: [EVENT_STORE],
})
export class EventStoreModule {}
