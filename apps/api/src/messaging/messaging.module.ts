import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { IssueChatCredentialsHandler } from './chat-credentials';
import { MessageDelivery } from './message-delivery';
import { MessagingConsentGate } from './messaging-consent';
import { MESSAGING_COMMAND_HANDLERS } from './messaging.commands';
import { ConversationsController, MessagingController } from './messaging.controller';
import { MESSAGING_QUERY_HANDLERS } from './messaging.queries';

/**
 * End-to-end encrypted messaging (ciphertext envelopes only): keys, conversations under the messaging
 * consent rule, live delivery over the WebSocket at /messages/live, and Tencent Chat credentials.
 */
@Module({
  imports: [AuditModule],
  controllers: [MessagingController, ConversationsController],
  providers: [
    MessagingConsentGate,
    MessageDelivery,
    IssueChatCredentialsHandler,
    ...MESSAGING_COMMAND_HANDLERS,
    ...MESSAGING_QUERY_HANDLERS,
  ],
  exports: [MessageDelivery],
})
export class MessagingModule {}
