import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { CONSULTATION_SYSTEM_ACTOR, type ConsultationCommand, unixSeconds } from '@custos/domain';
import { findAll } from '../core/find-all';
import { PeriodicJob } from '../core/periodic-job';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';
import { RunConsultationCommand } from './consultation.commands';
import type { ConsultationDocument } from './consultation.projection';

/** How often consultations past their end are closed. Up to this long a past window stays open in views. */
export const CONSULTATION_CLOSING_INTERVAL_MS = 15_000;
/** Most consultations closed in one run; the next run takes the rest. */
export const CONSULTATION_CLOSING_BATCH = 500;

export interface ClosingReport {
  ended: string[];
  noShows: string[];
  failed: string[];
}

/**
 * Settles consultations whose window has passed: a no-show when the patient or the provider never
 * joined (which also ends a call still open), otherwise the end by time. Runs on an unref'd timer, one
 * run at a time; each consultation is one command as `system`, so a run that fails halfway leaves the
 * rest for the next.
 */
@Injectable()
export class ConsultationClosingJob implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ConsultationClosing');
  private readonly job = new PeriodicJob((now) => this.close(now), this.logger, 'closing consultations');

  constructor(
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly commands: CommandBus,
  ) {}

  onApplicationBootstrap(): void {
    this.job.start(CONSULTATION_CLOSING_INTERVAL_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.job.stop();
  }

  /** One run now (or the one already running). */
  run(now: Date): Promise<ClosingReport> {
    return this.job.run(now);
  }

  private async close(now: Date): Promise<ClosingReport> {
    const report: ClosingReport = { ended: [], noShows: [], failed: [] };
    const due = await findAll<ConsultationDocument>(
      this.readModels,
      'consultations',
      {
        where: { pendingOutcome: true },
        range: { field: 'endsAt', lt: unixSeconds(now) + 1 },
        sort: { field: 'endsAt', direction: 'asc' },
      },
      CONSULTATION_CLOSING_BATCH,
    );
    for (const consultation of due) {
      const bothJoined =
        consultation.everJoined.includes(consultation.patient) &&
        consultation.everJoined.includes(consultation.provider);
      const command: ConsultationCommand = bothJoined
        ? { type: 'EndConsultation', id: consultation.id, actor: CONSULTATION_SYSTEM_ACTOR }
        : { type: 'RecordNoShow', id: consultation.id, actor: CONSULTATION_SYSTEM_ACTOR };
      const context = { actor: CONSULTATION_SYSTEM_ACTOR, correlationId: randomUUID(), now };
      try {
        await this.commands.execute(new RunConsultationCommand(context, command));
        (bothJoined ? report.ended : report.noShows).push(consultation.id);
      } catch (error) {
        report.failed.push(consultation.id);
        this.logger.warn(
          `${command.type} on consultation ${consultation.id} failed: ${(error as Error).message.slice(0, 300)}`,
        );
      }
    }
    return report;
  }
}
