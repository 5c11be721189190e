// What the browser does around the messaging API, with the product's one end-to-end encryption library
// (libs/e2ee, on WebCrypto: the same code runs in the web app and here): an X25519 messaging key per
// account, derived from a wallet signature and bound to the wallet by an EIP-191 signature; per message
// `seal` (a fresh AES-256-GCM content key, wrapped for each participant) with the message's place as
// additional data. The API only ever sees the outputs, so these suites prove it accepts exactly what the
// browser sends. No cryptography is implemented here.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { messagingKeyStatement } from '@custos/domain';
import {
  deriveKeyPair,
  generateKeyPair,
  KEY_DERIVATION_MESSAGE,
  type MessagingKeyPair,
  messageAdditionalData,
  open,
  seal,
  utf8,
} from '@custos/e2ee';
import type { TestApi, User } from '../api/harness';

/** A signed-in user with their messaging key pair (`publicKey`: base64url of the raw 32 bytes). */
export type MessagingUser = User & MessagingKeyPair;

/** The additional data binding an envelope to its conversation and message (libs/e2ee, as the web app). */
export const associatedData = messageAdditionalData;

/** The body fields of `POST /conversations/:id/messages` that carry the content. */
export interface Envelope {
  messageId: string;
  ciphertext: string;
  iv: string;
  wrappedKeys: Record<string, string>;
}

/** Encrypts `text` for `recipients` (address → public key) with libs/e2ee, as the sender's browser does. */
export async function encryptMessage(
  conversationId: string,
  text: string,
  recipients: Record<string, string>,
  messageId: string = randomUUID(),
): Promise<Envelope> {
  const sealed = await seal(utf8.encode(text), recipients, associatedData(conversationId, messageId));
  return { messageId, ...sealed };
}

/** A message as the API hands it to one reader (`wrappedKey` is theirs). */
export interface ReceivedMessage {
  conversationId: string;
  messageId: string;
  ciphertext: string;
  iv: string;
  wrappedKey: string;
}

/**
 * Decrypts a message as the API hands it to `me` with libs/e2ee's `open`; rejects with its
 * `IntegrityError` when it was changed, moved, or not encrypted for this key. `aad` overrides the
 * additional data (to show that another message's does not open it).
 */
export async function decryptMessage(
  message: ReceivedMessage,
  me: MessagingKeyPair,
  aad: Uint8Array = associatedData(message.conversationId, message.messageId),
): Promise<string> {
  const reader = 'me';
  const bytes = await open(
    { ciphertext: message.ciphertext, iv: message.iv, wrappedKeys: { [reader]: message.wrappedKey } },
    reader,
    me,
    aad,
  );
  return utf8.decode(bytes);
}

/**
 * The messaging key of `user`'s wallet, derived from its signature of KEY_DERIVATION_MESSAGE (the same
 * wallet always derives the same key) and registered through `PUT /messaging/keys/me` with the wallet's
 * signature of the binding statement, as the web app does.
 */
export async function withMessagingKey(api: TestApi, user: User): Promise<MessagingUser> {
  const keys = await deriveKeyPair(await user.wallet.signMessage(KEY_DERIVATION_MESSAGE));
  const signature = await user.wallet.signMessage(messagingKeyStatement(user.address, keys.publicKey));
  const res = await api.request('PUT', '/messaging/keys/me', {
    token: user.token,
    body: { publicKey: keys.publicKey, signature },
  });
  assert.equal(res.statusCode, 200, res.body);
  return { ...user, ...keys };
}

/** A key pair registered nowhere: an outsider's. */
export const outsiderKey = (): Promise<MessagingKeyPair> => generateKeyPair();

/** The public keys of `people`, as the sender's browser fetches them (and checks their signatures). */
export function keysOf(...people: MessagingUser[]): Record<string, string> {
  return Object.fromEntries(people.map((p) => [p.address, p.publicKey]));
}
