import { randomUUID } from 'node:crypto';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { consentDecider, consentStream, notFound } from '@custos/domain';
import { Inject } from '@nestjs/common';
import { AggregateRepository, type CommandContext } from '../core/aggregate-repository';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';
import type { ConsentRequestDocument } from '../projections/read-models';

export class RequestConsentCommand extends Command<{ id: string }> {
  constructor(
    readonly context: CommandContext,
    readonly patient: string,
    readonly category: string,
    readonly purpose: string,
    readonly durationSeconds: number,
  ) {
    super();
  }
}

export class DeclineConsentRequestCommand extends Command<void> {
  constructor(
    readonly context: CommandContext,
    readonly requestId: string,
  ) {
    super();
  }
}

@CommandHandler(RequestConsentCommand)
export class RequestConsentHandler implements ICommandHandler<RequestConsentCommand> {
  constructor(private readonly aggregates: AggregateRepository) {}

  async execute(command: RequestConsentCommand): Promise<{ id: string }> {
    const requestId = randomUUID();
    await this.aggregates.execute(
      consentDecider,
      consentStream(command.patient),
      {
        type: 'RequestConsent',
        requestId,
        patient: command.patient,
        provider: command.context.actor,
        category: command.category,
        purpose: command.purpose,
        durationSeconds: command.durationSeconds,
      },
      command.context,
    );
    return { id: requestId };
  }
}

@CommandHandler(DeclineConsentRequestCommand)
export class DeclineConsentRequestHandler implements ICommandHandler<DeclineConsentRequestCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute(command: DeclineConsentRequestCommand): Promise<void> {
    const request = await this.readModels.get<ConsentRequestDocument>('consent_requests', command.requestId);
    // Someone else's request is as invisible as one that does not exist.
    if (!request || request.patient !== command.context.actor) {
      throw notFound('request_not_found', `no consent request ${command.requestId} addressed to you`);
    }
    await this.aggregates.execute(
      consentDecider,
      consentStream(request.patient),
      { type: 'DeclineConsentRequest', requestId: command.requestId },
      command.context,
    );
  }
}

export const CONSENT_COMMAND_HANDLERS = [RequestConsentHandler, DeclineConsentRequestHandler];
