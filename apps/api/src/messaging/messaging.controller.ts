import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../core/aggregate-repository';
import { IdParam } from '../core/id-param';
import { Context } from '../core/request-context';
import { IssueChatCredentialsCommand } from './chat-credentials';
import {
  ChangeCareTeamCommand,
  MessageReceiptCommand,
  RegisterMessagingKeyCommand,
  SendMessageCommand,
  SetConversationHiddenCommand,
  StartConversationCommand,
} from './messaging.commands';
import {
  AddressParam,
  type ChatCredentials,
  ConversationListQuery,
  type MessageAccepted,
  MessageListQuery,
  MessageParams,
  MessagingKeyBody,
  type MessagingKeyView,
  ParticipantBody,
  ParticipantParams,
  SendMessageBody,
  StartConversationBody,
} from './messaging.dto';
import {
  GetConversationQuery,
  GetMessagingKeyQuery,
  ListConversationsQuery,
  ListMessagesQuery,
} from './messaging.queries';

/** Messaging keys and transport credentials. Any signed-in account, for itself. */
@Controller('messaging')
export class MessagingController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** Registers (or rotates) my X25519 key; the signature must recover to my address. */
  @Put('keys/me')
  registerKey(@Context() context: CommandContext, @Body() body: MessagingKeyBody): Promise<MessagingKeyView> {
    return this.commands.execute(new RegisterMessagingKeyCommand(context, body.publicKey, body.signature));
  }

  /** An account's key with its signature, so the client checks the binding itself before wrapping. */
  @Get('keys/:address')
  key(@Param() params: AddressParam): Promise<MessagingKeyView> {
    return this.queries.execute(new GetMessagingKeyQuery(params.address));
  }

  /** Tencent Chat credentials for my own chat user id; 503 when Tencent Chat is not configured. */
  @Post('chat-credentials')
  @HttpCode(200)
  chatCredentials(@Context() context: CommandContext): Promise<ChatCredentials> {
    return this.commands.execute(new IssueChatCredentialsCommand(context));
  }
}

/**
 * End-to-end encrypted conversations between a patient and their care team. The API stores and relays
 * ciphertext envelopes; sending needs the patient's `messaging` grant to every provider in the
 * conversation (messaging-consent.ts). Everything is retained (RETENTION_YEARS): there is no delete.
 * A conversation someone is not (and never was) in answers 404, as if it did not exist.
 */
@Controller('conversations')
export class ConversationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  start(@Context() context: CommandContext, @Body() body: StartConversationBody): Promise<{ id: string }> {
    return this.commands.execute(new StartConversationCommand(context, body.patient, body.providers));
  }

  /** My inbox: providers' ordered by triage, others' by last activity; hidden ones with `?hidden=true`. */
  @Get()
  list(
    @Context() context: CommandContext,
    @Query() query: ConversationListQuery,
    @Req() request: FastifyRequest,
  ) {
    const isProvider = request.principal?.roles.includes('provider') ?? false;
    return this.queries.execute(
      new ListConversationsQuery(
        context.actor,
        isProvider,
        query.hidden === 'true',
        context.now,
        query.cursor,
        query.limit,
      ),
    );
  }

  @Get(':id')
  get(@Context() context: CommandContext, @Param() params: IdParam) {
    return this.queries.execute(new GetConversationQuery(params.id, context.actor, context.now));
  }

  /** The envelopes sent to me in this conversation, oldest first (`?order=desc`: newest first). */
  @Get(':id/messages')
  messages(@Context() context: CommandContext, @Param() params: IdParam, @Query() query: MessageListQuery) {
    return this.queries.execute(
      new ListMessagesQuery(params.id, context.actor, query.order ?? 'asc', query.cursor, query.limit),
    );
  }

  /** One envelope; resending the same one with the same `messageId` answers the same and adds nothing. */
  @Post(':id/messages')
  send(
    @Context() context: CommandContext,
    @Param() params: IdParam,
    @Body() body: SendMessageBody,
  ): Promise<MessageAccepted> {
    return this.commands.execute(new SendMessageCommand(context, params.id, body));
  }

  @Post(':id/messages/:messageId/acknowledgment')
  @HttpCode(204)
  async acknowledge(@Context() context: CommandContext, @Param() params: MessageParams): Promise<void> {
    await this.commands.execute(
      new MessageReceiptCommand(context, params.id, params.messageId, 'acknowledgment'),
    );
  }

  @Post(':id/messages/:messageId/read')
  @HttpCode(204)
  async read(@Context() context: CommandContext, @Param() params: MessageParams): Promise<void> {
    await this.commands.execute(new MessageReceiptCommand(context, params.id, params.messageId, 'read'));
  }

  /** Hides the conversation from my inbox only; nothing is deleted. */
  @Post(':id/hide')
  @HttpCode(204)
  async hide(@Context() context: CommandContext, @Param() params: IdParam): Promise<void> {
    await this.commands.execute(new SetConversationHiddenCommand(context, params.id, true));
  }

  @Post(':id/unhide')
  @HttpCode(204)
  async unhide(@Context() context: CommandContext, @Param() params: IdParam): Promise<void> {
    await this.commands.execute(new SetConversationHiddenCommand(context, params.id, false));
  }

  /** The patient adds a provider to the care team (needs the patient's `messaging` grant to them). */
  @Post(':id/participants')
  @HttpCode(204)
  async addParticipant(
    @Context() context: CommandContext,
    @Param() params: IdParam,
    @Body() body: ParticipantBody,
  ): Promise<void> {
    await this.commands.execute(new ChangeCareTeamCommand(context, params.id, body.provider, 'add'));
  }

  /** The patient removes a provider, or a provider leaves; what was sent to them stays theirs to read. */
  @Post(':id/participants/:address/remove')
  @HttpCode(204)
  async removeParticipant(
    @Context() context: CommandContext,
    @Param() params: ParticipantParams,
  ): Promise<void> {
    await this.commands.execute(new ChangeCareTeamCommand(context, params.id, params.address, 'remove'));
  }
}
