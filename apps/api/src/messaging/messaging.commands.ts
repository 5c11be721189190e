import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  type ConversationCommand,
  conversationDecider,
  conversationStream,
  messagingKeyDecider,
  messagingKeyStatement,
  messagingKeyStream,
  notFound,
} from '@custos/domain';
import { verifyMessage } from 'ethers';
import { AggregateRepository, type CommandContext } from '../core/aggregate-repository';
import { ConcurrencyError } from '../event-store/event-store.port';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import { MessagingConsentGate } from './messaging-consent';
import type { MessageAccepted, MessagingKeyView, SendMessageBody } from './messaging.dto';
import { type MessageDocument, messageDocumentId, type MessagingKeyDocument } from './messaging.projection';
import { visibleConversation } from './messaging.queries';

/** How often a command that lost a race on its conversation is decided again (they are idempotent). */
const CONFLICT_ATTEMPTS = 3;

/**
 * Runs an idempotent command again when another command on the same conversation was appended between
 * its load and its append (two people typing at once): deciding again on the new state is safe.
 */
async function retryingConflicts<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= CONFLICT_ATTEMPTS) throw error;
    }
  }
}

/** Whether `signature` is `address`'s EIP-191 signature over the key statement (false when malformed). */
export function keySignatureValid(address: string, publicKey: string, signature: string): boolean {
  try {
    return verifyMessage(messagingKeyStatement(address, publicKey), signature).toLowerCase() === address;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------------------------------- keys

export class RegisterMessagingKeyCommand extends Command<MessagingKeyView> {
  constructor(
    readonly context: CommandContext,
    readonly publicKey: string,
    readonly signature: string,
  ) {
    super();
  }
}

@CommandHandler(RegisterMessagingKeyCommand)
export class RegisterMessagingKeyHandler implements ICommandHandler<RegisterMessagingKeyCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute({ context, publicKey, signature }: RegisterMessagingKeyCommand): Promise<MessagingKeyView> {
    const account = context.actor;
    await this.aggregates.execute(
      messagingKeyDecider,
      messagingKeyStream(account),
      {
        type: 'RegisterMessagingKey',
        actor: account,
        publicKey,
        signature,
        signatureValid: keySignatureValid(account, publicKey, signature),
      },
      context,
    );
    const key = await this.readModels.get<MessagingKeyDocument>('messaging_keys', account);
    if (!key) throw new Error('messaging key not projected after registration');
    return {
      account: key.account,
      publicKey: key.publicKey,
      signature: key.signature,
      registeredAt: key.registeredAt,
    };
  }
}

// ------------------------------------------------------------------------------------ conversations

export class StartConversationCommand extends Command<{ id: string }> {
  constructor(
    readonly context: CommandContext,
    readonly patient: string,
    readonly providers: string[],
  ) {
    super();
  }
}

@CommandHandler(StartConversationCommand)
export class StartConversationHandler implements ICommandHandler<StartConversationCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    private readonly gate: MessagingConsentGate,
  ) {}

  async execute({ context, patient, providers }: StartConversationCommand): Promise<{ id: string }> {
    const conversationId = randomUUID();
    const granted = await this.gate.grantedProviders(patient, providers, context.now);
    await this.gate.enforce(
      context,
      { patient, resource: 'conversations', action: 'start_conversation' },
      () =>
        this.aggregates.execute(
          this.gate.decider(granted),
          conversationStream(conversationId),
          {
            type: 'StartConversation',
            conversationId,
            actor: context.actor,
            patient,
            providers,
            messagingAllowed: false, // computed by the gate's decider
          },
          context,
        ),
    );
    return { id: conversationId };
  }
}

export class SendMessageCommand extends Command<MessageAccepted> {
  constructor(
    readonly context: CommandContext,
    readonly conversationId: string,
    readonly envelope: SendMessageBody,
  ) {
    super();
  }
}

@CommandHandler(SendMessageCommand)
export class SendMessageHandler implements ICommandHandler<SendMessageCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    private readonly gate: MessagingConsentGate,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute({ context, conversationId, envelope }: SendMessageCommand): Promise<MessageAccepted> {
    const command: ConversationCommand = {
      type: 'SendMessage',
      conversationId,
      actor: context.actor,
      messageId: envelope.messageId,
      kind: envelope.kind,
      requiresAcknowledgment: envelope.requiresAcknowledgment ?? false,
      urgent: envelope.urgent ?? false,
      ciphertext: envelope.ciphertext,
      iv: envelope.iv,
      wrappedKeys: envelope.wrappedKeys,
      ...(envelope.attachment
        ? { attachment: { blobId: envelope.attachment.blobId, size: envelope.attachment.size } }
        : {}),
      messagingAllowed: false, // computed by the gate's decider
    };
    const outcome = await retryingConflicts(async () => {
      // Read again on a retry (the care team may have changed): the rule holds for the team the message
      // is decided on, and any provider not read here counts as without a grant.
      const conversation = await visibleConversation(this.readModels, conversationId, context.actor);
      const granted = await this.gate.grantedProviders(
        conversation.patient,
        conversation.providers,
        context.now,
      );
      return this.gate.enforce(
        context,
        { patient: conversation.patient, resource: `conversation:${conversationId}`, action: 'send_message' },
        () =>
          this.aggregates.execute(
            this.gate.decider(granted),
            conversationStream(conversationId),
            command,
            context,
          ),
      );
    });
    const [sent] = outcome.events;
    if (sent?.type === 'MessageSent') {
      return {
        conversationId,
        messageId: sent.data.messageId,
        position: outcome.position,
        sentAt: sent.data.sentAt,
      };
    }
    // A retry of a message already accepted decided nothing: answer what was accepted then.
    const message = await this.readModels.get<MessageDocument>(
      'messages',
      messageDocumentId(conversationId, envelope.messageId),
    );
    if (!message) throw new Error('message not projected after it was accepted');
    return {
      conversationId,
      messageId: message.messageId,
      position: message.position,
      sentAt: message.sentAt,
    };
  }
}

export class MessageReceiptCommand extends Command<void> {
  constructor(
    readonly context: CommandContext,
    readonly conversationId: string,
    readonly messageId: string,
    readonly receipt: 'acknowledgment' | 'read',
  ) {
    super();
  }
}

@CommandHandler(MessageReceiptCommand)
export class MessageReceiptHandler implements ICommandHandler<MessageReceiptCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute({ context, conversationId, messageId, receipt }: MessageReceiptCommand): Promise<void> {
    await visibleConversation(this.readModels, conversationId, context.actor);
    // Only what was sent to me (a provider who joined later never received the earlier messages).
    const message = await this.readModels.get<MessageDocument>(
      'messages',
      messageDocumentId(conversationId, messageId),
    );
    if (!message || !message.recipients.includes(context.actor)) {
      throw notFound('message_not_found', `no message ${messageId} sent to you in this conversation`);
    }
    await retryingConflicts(() =>
      this.aggregates.execute(
        conversationDecider,
        conversationStream(conversationId),
        {
          type: receipt === 'acknowledgment' ? 'AcknowledgeMessage' : 'MarkMessageRead',
          conversationId,
          actor: context.actor,
          messageId,
        },
        context,
      ),
    );
  }
}

export class SetConversationHiddenCommand extends Command<void> {
  constructor(
    readonly context: CommandContext,
    readonly conversationId: string,
    readonly hidden: boolean,
  ) {
    super();
  }
}

@CommandHandler(SetConversationHiddenCommand)
export class SetConversationHiddenHandler implements ICommandHandler<SetConversationHiddenCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute({ context, conversationId, hidden }: SetConversationHiddenCommand): Promise<void> {
    await visibleConversation(this.readModels, conversationId, context.actor);
    await retryingConflicts(() =>
      this.aggregates.execute(
        conversationDecider,
        conversationStream(conversationId),
        { type: hidden ? 'HideConversation' : 'UnhideConversation', conversationId, actor: context.actor },
        context,
      ),
    );
  }
}

export class ChangeCareTeamCommand extends Command<void> {
  constructor(
    readonly context: CommandContext,
    readonly conversationId: string,
    readonly provider: string,
    readonly change: 'add' | 'remove',
  ) {
    super();
  }
}

@CommandHandler(ChangeCareTeamCommand)
export class ChangeCareTeamHandler implements ICommandHandler<ChangeCareTeamCommand> {
  constructor(
    private readonly aggregates: AggregateRepository,
    private readonly gate: MessagingConsentGate,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute({ context, conversationId, provider, change }: ChangeCareTeamCommand): Promise<void> {
    const conversation = await visibleConversation(this.readModels, conversationId, context.actor);
    const stream = conversationStream(conversationId);
    if (change === 'remove') {
      await this.aggregates.execute(
        conversationDecider,
        stream,
        { type: 'RemoveParticipant', conversationId, actor: context.actor, provider },
        context,
      );
      return;
    }
    const granted = await this.gate.grantedProviders(conversation.patient, [provider], context.now);
    await this.gate.enforce(
      context,
      {
        patient: conversation.patient,
        resource: `conversation:${conversationId}/participants`,
        action: 'add_participant',
      },
      () =>
        this.aggregates.execute(
          this.gate.decider(granted),
          stream,
          { type: 'AddParticipant', conversationId, actor: context.actor, provider, messagingAllowed: false },
          context,
        ),
    );
  }
}

export const MESSAGING_COMMAND_HANDLERS = [
  RegisterMessagingKeyHandler,
  StartConversationHandler,
  SendMessageHandler,
  MessageReceiptHandler,
  SetConversationHiddenHandler,
  ChangeCareTeamHandler,
];
