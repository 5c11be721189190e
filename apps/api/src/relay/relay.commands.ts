import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { consentDecider, consentStream, forbidden, invalid, unixSeconds } from '@custos/domain';
import { AggregateRepository, type CommandContext } from '../core/aggregate-repository';
import type { DirectoryDocument } from '../projections/read-models';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { RelayAccepted } from './relay.dto';
import { RelayChain, type SignedConsentIntent } from './relay-chain';
import { RelayWorker } from './relay.worker';

/**
 * A patient's signed grant or revoke, to verify, record as submitted and hand to the relay worker.
 * (A record's registration goes with its content: RecordsService.)
 */
export class SubmitSignedIntentCommand extends Command<RelayAccepted> {
  constructor(
    readonly context: CommandContext,
    readonly intent: Exclude<SignedConsentIntent, { kind: 'register_record' }>,
  ) {
    super();
  }
}

@CommandHandler(SubmitSignedIntentCommand)
export class SubmitSignedIntentHandler implements ICommandHandler<SubmitSignedIntentCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    private readonly chain: RelayChain,
    private readonly worker: RelayWorker,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute({ context, intent }: SubmitSignedIntentCommand): Promise<RelayAccepted> {
    // Only the patient relays their own consent (their wallet signed it; their session asks for it).
    if (intent.patient !== context.actor) {
      throw forbidden('not_the_patient', 'you can only relay a consent signed for your own address');
    }
    this.chain.require(); // 503 before anything else when there is no contract
    if (intent.deadline < unixSeconds(context.now)) {
      throw invalid(
        'signature_expired',
        `deadline passed: the signature's deadline ${intent.deadline} is over`,
      );
    }
    if (intent.kind === 'grant') {
      for (const { provider } of intent.grants) {
        const entry = await this.readModels.get<DirectoryDocument>('directory', provider);
        if (!entry?.isProvider) {
          throw invalid('not_a_provider', `provider is not a registered provider: ${provider}`);
        }
      }
    }
    // Checked against the chain before any gas is spent: the signature, the nonce, the chain, the contract.
    const nonce = await this.chain.verify(intent);
    const relayId = randomUUID();
    const { deadline, signature, patient } = intent;
    await this.aggregates.execute(
      consentDecider,
      consentStream(patient),
      intent.kind === 'grant'
        ? {
            type: 'SubmitGrant',
            relayId,
            patient,
            grants: intent.grants,
            batch: intent.batch,
            nonce,
            deadline,
            signature,
          }
        : {
            type: 'SubmitRevoke',
            relayId,
            patient,
            provider: intent.provider,
            category: intent.category,
            nonce,
            deadline,
            signature,
          },
      context,
    );
    this.worker.wake();
    return { id: relayId, status: 'submitted' };
  }
}

export const RELAY_COMMAND_HANDLERS = [SubmitSignedIntentHandler];
