import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import { HealthService } from '../health/health.service';
import { METRICS_REGISTRY } from '../metrics/metrics.module';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStoreAdapter } from '../read-models/read-model.common';
import { ProjectionRunner } from './projection-runner';
import { PROJECTIONS } from './read-models';

/** A projection more than this many seconds behind makes /health report `degraded`. */
const LAG_DEGRADED_SECONDS = 5;

/** Runs every projection for the life of the API and exports their lag. */
@Injectable()
export class ProjectionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');
  readonly runner: ProjectionRunner;
  private readonly lagEvents: Gauge;
  private readonly lagSeconds: Gauge;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(EVENT_STORE) events: EventStore,
    @Inject(READ_MODEL_STORE) readModels: ReadModelStoreAdapter,
    @Inject(METRICS_REGISTRY) registry: Registry,
    health: HealthService,
  ) {
    this.runner = new ProjectionRunner(events, readModels, PROJECTIONS, {
      // MongoDB skips writes per document by position, which is exact only when a replayed unit holds
      // the same events as the one that crashed: one event per unit there. SQLite units are transactions.
      batchSize: readModels.kind === 'mongodb' ? 1 : 500,
      onError: (projection, error) =>
        this.logger.error(`projection ${projection} failed, retrying: ${(error as Error).message}`),
    });
    this.lagEvents = new Gauge({
      name: 'custos_projection_lag_events',
      help: 'Events in the store that a projection has not applied yet',
      labelNames: ['projection'],
      registers: [registry],
    });
    this.lagSeconds = new Gauge({
      name: 'custos_projection_lag_seconds',
      help: 'Age of the oldest event a projection has not applied yet',
      labelNames: ['projection'],
      registers: [registry],
    });
    health.register({
      name: 'projections',
      critical: false,
      check: async () => {
        const behind = (await this.runner.lag()).filter((l) => l.seconds > LAG_DEGRADED_SECONDS);
        return behind.length === 0
          ? { status: 'up' }
          : { status: 'degraded', detail: `behind: ${behind.map((l) => l.projection).join(', ')}` };
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
    this.timer = setInterval(() => void this.exportLag(), 1_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.runner.stop();
  }

  private async exportLag(): Promise<void> {
    try {
      for (const lag of await this.runner.lag()) {
        this.lagEvents.set({ projection: lag.projection }, lag.events);
        this.lagSeconds.set({ projection: lag.projection }, lag.seconds);
      }
    } catch (error) {
      this.logger.warn(`could not measure projection lag: ${(error as Error).message}`);
    }
  }
}

@Module({ providers: [ProjectionsService], exports: [ProjectionsService] })
export class ProjectionsModule {}
