import { randomUUID } from 'node:crypto';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  CONSULTATION_SYSTEM_ACTOR,
  type ConsultationCommand,
  type ConsultationEvent,
  type ConsultationMode,
  consultationDecider,
  consultationStream,
  forbidden,
  notFound,
} from '@custos/domain';
import { AggregateRepository, type CommandContext } from '../core/aggregate-repository';
import { TelehealthConsent } from './telehealth-consent';

/** A provider schedules a consultation; refused unless the patient's grant to them is active. */
export class ScheduleConsultationCommand extends Command<{ id: string }> {
  constructor(
    readonly context: CommandContext,
    readonly patient: string,
    readonly category: string,
    /** Unix seconds. */
    readonly startsAt: number,
    readonly durationMinutes: number,
    readonly mode: ConsultationMode,
  ) {
    super();
  }
}

/**
 * Any other consultation command (invite, admit, join, leave, recording consent, end, no-show, remove),
 * run as the context's actor: a participant, or `system` for the API's own timers and gates.
 */
export class RunConsultationCommand extends Command<ConsultationEvent[]> {
  constructor(
    readonly context: CommandContext,
    readonly command: ConsultationCommand,
  ) {
    super();
  }
}

/** Someone else's consultation is as invisible as one that does not exist. */
export const sessionNotFound = (id: string) =>
  notFound('session_not_found', `there is no consultation ${id} that you take part in`);

@CommandHandler(ScheduleConsultationCommand)
export class ScheduleConsultationHandler implements ICommandHandler<ScheduleConsultationCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    private readonly consent: TelehealthConsent,
  ) {}

  async execute(command: ScheduleConsultationCommand): Promise<{ id: string }> {
    const { context, patient, category } = command;
    const id = randomUUID();
    const schedule: ConsultationCommand = {
      type: 'ScheduleConsultation',
      id,
      actor: context.actor,
      provider: context.actor,
      patient,
      category,
      mode: command.mode,
      startsAt: command.startsAt,
      durationMinutes: command.durationMinutes,
    };
    // The input rules first (the decider is pure; a new consultation has no state), so that a bad
    // request is answered 400 whatever the consent says.
    consultationDecider.decide(schedule, consultationDecider.initialState, context.now);
    if (!(await this.consent.isActive(patient, context.actor, category, context.now))) {
      throw forbidden(
        'no_consent',
        `the patient has not granted you access to ${category} or to telehealth (or the grant is no longer active); ask the patient for access first`,
      );
    }
    await this.aggregates.execute(consultationDecider, consultationStream(id), schedule, context);
    return { id };
  }
}

@CommandHandler(RunConsultationCommand)
export class RunConsultationHandler implements ICommandHandler<RunConsultationCommand> {
  constructor(private readonly aggregates: AggregateRepository) {}

  async execute({ context, command }: RunConsultationCommand): Promise<ConsultationEvent[]> {
    const stream = consultationStream(command.id);
    if (context.actor !== CONSULTATION_SYSTEM_ACTOR) {
      const { state } = await this.aggregates.load(consultationDecider, stream);
      if (!state?.participants[context.actor]) throw sessionNotFound(command.id);
    }
    const { events } = await this.aggregates.execute(consultationDecider, stream, command, context);
    return events;
  }
}

export const CONSULTATION_COMMAND_HANDLERS = [ScheduleConsultationHandler, RunConsultationHandler];
