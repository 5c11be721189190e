import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { blobDiscarded, UPLOADS_STREAM } from '@custos/domain';
import { BLOB_STORE, type BlobStore } from '../blob-store/blob-store.port';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig, durationInWords } from '../config/config.schema';
import { AggregateRepository } from '../core/aggregate-repository';
import { findAll } from '../core/find-all';
import { PeriodicJob } from '../core/periodic-job';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import { ProjectionsService } from '../projections/projections.module';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { UploadDocument } from './uploads.projection';

/** How often uploads nothing refers to are looked for. */
export const UPLOAD_SWEEP_INTERVAL_MS = 10 * 60_000;
/** Most blobs removed in one run; the next run takes the rest. */
export const UPLOAD_SWEEP_BATCH = 500;
const SWEEPER_ACTOR = 'system';

export interface SweepReport {
  discarded: string[];
  failed: string[];
}

/**
 * Removes uploads that no record or message referred to within UPLOADS_UNCLAIMED_FOR of their last
 * upload: the blob from the blob store first, then a `BlobDiscarded` event (which gives the
 * uploaders their allowance back). A run that fails halfway leaves the rest for the next; a blob
 * removed whose event was not appended is removed again, harmlessly. Runs on an unref'd timer, one
 * run at a time.
 *
 * Before it removes anything it waits for the projections to reach the end of the event store, and
 * it reads each upload again just before removing it, so a record submitted before the run is never
 * left without its ciphertext. (A record submitted during the same milliseconds, for an upload
 * unclaimed for a whole day, could still race it.)
 */
@Injectable()
export class UploadSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('UploadSweeper');
  private readonly job = new PeriodicJob((now) => this.sweep(now), this.logger, 'sweeping unclaimed uploads');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly projections: ProjectionsService,
    private readonly aggregates: AggregateRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.job.start(UPLOAD_SWEEP_INTERVAL_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.job.stop();
  }

  /** One run as of `now` (or the one already running). */
  run(now: Date): Promise<SweepReport> {
    return this.job.run(now);
  }

  private async sweep(now: Date): Promise<SweepReport> {
    const report: SweepReport = { discarded: [], failed: [] };
    const before = new Date(now.getTime() - this.config.UPLOADS_UNCLAIMED_FOR).toISOString();
    await this.projections.runner.caughtUp(await this.events.headPosition());
    const due = await findAll<UploadDocument>(
      this.readModels,
      'uploads',
      {
        where: { claimed: false },
        range: { field: 'lastUploadedAt', lt: before },
        sort: { field: 'lastUploadedAt', direction: 'asc' },
      },
      UPLOAD_SWEEP_BATCH,
    );
    const unclaimedFor = durationInWords(this.config.UPLOADS_UNCLAIMED_FOR);
    for (const { id: cid } of due) {
      try {
        const upload = await this.readModels.get<UploadDocument>('uploads', cid);
        if (!upload || upload.claimed || upload.lastUploadedAt >= before) continue;
        await this.blobs.delete(cid);
        await this.aggregates.record(
          UPLOADS_STREAM,
          [
            blobDiscarded({
              cid,
              reason: `no record or message referred to it within ${unclaimedFor} of its upload`,
            }),
          ],
          { actor: SWEEPER_ACTOR, correlationId: randomUUID(), now },
        );
        report.discarded.push(cid);
      } catch (error) {
        report.failed.push(cid);
        this.logger.warn(`could not discard upload ${cid}: ${(error as Error).message.slice(0, 300)}`);
      }
    }
    if (report.discarded.length > 0 || report.failed.length > 0)
      this.logger.log(
        `unclaimed uploads: ${report.discarded.length} removed, ${report.failed.length} failed`,
      );
    return report;
  }
}
