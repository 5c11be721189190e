import { GCM_TAG_BYTES, MAX_CIPHERTEXT_BYTES } from '@custos/domain/messaging';
import {
  type MessagingKeyPair,
  type SealedContent,
  messageAdditionalData,
  open,
  seal,
  utf8,
} from '@custos/e2ee';

/**
 * A message's content, end to end: encrypted here for every participant with libs/e2ee (a fresh
 * AES-256-GCM content key wrapped with each participant's X25519 key), decrypted here by each reader,
 * with `messageAdditionalData` binding the ciphertext to its conversation and message. The API only
 * ever sees the envelope.
 */
export { messageAdditionalData };

/** Most UTF-8 bytes of content one message carries (its ciphertext adds the 16-byte tag). */
export const MAX_CONTENT_BYTES = MAX_CIPHERTEXT_BYTES - GCM_TAG_BYTES;

/** The content is longer than one message can carry. */
export class MessageTooLongError extends Error {
  override readonly name = 'MessageTooLongError';
  constructor() {
    super('This message is too long to send. Shorten it or split it into several messages.');
  }
}

/**
 * Encrypts `content` for `recipients` (lower-case address → verified X25519 public key, the sender
 * included), bound to the conversation and the message id.
 */
export async function encryptMessage(
  conversationId: string,
  messageId: string,
  content: string,
  recipients: Readonly<Record<string, string>>,
): Promise<SealedContent> {
  const plaintext = utf8.encode(content);
  if (plaintext.length > MAX_CONTENT_BYTES) throw new MessageTooLongError();
  return seal(plaintext, recipients, messageAdditionalData(conversationId, messageId));
}

/** An envelope as the API hands it to one reader (`wrappedKey` is theirs). */
export interface ReceivedEnvelope {
  readonly conversationId: string;
  readonly messageId: string;
  readonly ciphertext: string;
  readonly iv: string;
  readonly wrappedKey: string;
}

/**
 * Decrypts an envelope with the reader's key pair; rejects with libs/e2ee's `IntegrityError` when it
 * was changed, moved, or not encrypted for this key.
 */
export async function decryptMessage(envelope: ReceivedEnvelope, keys: MessagingKeyPair): Promise<string> {
  const reader = 'me';
  const bytes = await open(
    { ciphertext: envelope.ciphertext, iv: envelope.iv, wrappedKeys: { [reader]: envelope.wrappedKey } },
    reader,
    keys,
    messageAdditionalData(envelope.conversationId, envelope.messageId),
  );
  return utf8.decode(bytes);
}
