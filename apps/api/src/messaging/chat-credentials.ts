import { Inject, ServiceUnavailableException } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AuditRecorder } from '../audit/audit-recorder';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import type { CommandContext } from '../core/aggregate-repository';
import { tlsSigApi } from '../tencent/tls-sig-api';
import type { ChatCredentials } from './messaging.dto';

/** Lifetime of a chat UserSig: one day (Tencent allows more; the product's limit is 7 days). */
export const CHAT_USER_SIG_SECONDS = 24 * 60 * 60;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * The Tencent Chat user id of an account: the 20 address bytes in lower-case RFC 4648 base32 without
 * padding, exactly 32 characters, which is Tencent's limit (a hex address is 42) and its alphabet
 * (letters and digits). Reversible and case-proof, so the web app derives its peers' ids the same way.
 */
export function chatUserId(address: string): string {
  const bytes = Buffer.from(address.toLowerCase().replace(/^0x/, ''), 'hex');
  if (bytes.length !== 20) throw new TypeError('chatUserId: not a 20-byte address');
  let id = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      id += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return id; // 160 bits: no partial group left
}

export class IssueChatCredentialsCommand extends Command<ChatCredentials> {
  constructor(readonly context: CommandContext) {
    super();
  }
}

/**
 * Tencent Chat credentials for the signed-in account only: the user id is derived from the caller's
 * address, never taken from the request. Without TENCENT_CHAT_* the answer is 503 (messages then
 * travel over the API's WebSocket alone). Tencent Chat carries envelopes the API already accepted; the
 * consent rule is enforced where messages are accepted (POST /conversations/:id/messages).
 */
@CommandHandler(IssueChatCredentialsCommand)
export class IssueChatCredentialsHandler implements ICommandHandler<IssueChatCredentialsCommand> {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditRecorder,
  ) {}

  async execute({ context }: IssueChatCredentialsCommand): Promise<ChatCredentials> {
    const chat = this.config.tencentChat;
    if (!chat) {
      throw new ServiceUnavailableException(
        'Tencent Chat is not configured on this server (TENCENT_CHAT_SDK_APP_ID and TENCENT_CHAT_SECRET_KEY); ' +
          'messages are delivered over the WebSocket at /messages/live',
      );
    }
    const userId = chatUserId(context.actor);
    // The library stamps its own time after this one: the real expiry is never earlier than stated.
    const issuedAt = Math.floor(context.now.getTime() / 1000);
    const userSig = tlsSigApi(chat.sdkAppId, chat.secretKey).genUserSig(userId, CHAT_USER_SIG_SECONDS);
    await this.audit.record(
      {
        actor: context.actor,
        patient: null,
        resource: 'messaging/chat-credentials',
        action: 'issue_chat_credentials',
        purpose: 'messaging',
        outcome: 'allowed',
        reason: 'signed in; a UserSig for the caller’s own chat user id',
      },
      context,
    );
    return { sdkAppId: chat.sdkAppId, userId, userSig, expiresAt: issuedAt + CHAT_USER_SIG_SECONDS };
  }
}
