// What the browser does around the messaging API, with node:crypto instead of WebCrypto (same
// algorithms): an X25519 messaging key per account, bound to the wallet by an EIP-191 signature; per
// message a fresh AES-256-GCM content key, wrapped for each participant with ECDH (an ephemeral X25519
// key against theirs) + HKDF-SHA256 + AES-256-GCM. The server only ever sees the outputs.
import assert from 'node:assert/strict';
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { messagingKeyStatement } from '@custos/domain';
import type { TestApi, User } from '../api/harness';

export interface MessagingUser extends User {
  privateKey: KeyObject;
  /** base64url of the raw 32-byte X25519 public key. */
  publicKey: string;
}

const WRAP_INFO = 'custos/message-key-wrap/v1';
const AES = 'aes-256-gcm';

const rawPublicKey = (key: KeyObject): Buffer =>
  Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
const publicKeyObject = (raw: Buffer | string): KeyObject =>
  createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: typeof raw === 'string' ? raw : raw.toString('base64url') },
    format: 'jwk',
  });

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; sealed: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv(AES, key, iv);
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { iv, sealed };
}

function open(key: Buffer, iv: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv(AES, key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

/** The key-encryption key for one recipient: HKDF over the X25519 secret, salted with both public keys. */
function keyEncryptionKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), WRAP_INFO, 32));
}

/** ephemeral public key (32) ‖ iv (12) ‖ wrapped content key (32) ‖ tag (16), base64url. */
export function wrapContentKey(contentKey: Buffer, recipientPublicKey: string, aad: Buffer): string {
  const ephemeral = generateKeyPairSync('x25519');
  const recipient = Buffer.from(recipientPublicKey, 'base64url');
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: publicKeyObject(recipient) });
  const ephemeralRaw = rawPublicKey(ephemeral.publicKey);
  const { iv, sealed } = seal(keyEncryptionKey(shared, ephemeralRaw, recipient), contentKey, aad);
  return Buffer.concat([ephemeralRaw, iv, sealed]).toString('base64url');
}

export function unwrapContentKey(wrapped: string, me: MessagingUser, aad: Buffer): Buffer {
  const bytes = Buffer.from(wrapped, 'base64url');
  const ephemeralRaw = bytes.subarray(0, 32);
  const shared = diffieHellman({ privateKey: me.privateKey, publicKey: publicKeyObject(ephemeralRaw) });
  const kek = keyEncryptionKey(shared, ephemeralRaw, Buffer.from(me.publicKey, 'base64url'));
  return open(kek, bytes.subarray(32, 44), bytes.subarray(44), aad);
}

/** Binds the envelope to its place, so the server cannot move a ciphertext to another conversation. */
const associatedData = (conversationId: string, messageId: string) =>
  Buffer.from(`custos-message|${conversationId}|${messageId}`, 'utf8');

export interface Envelope {
  messageId: string;
  ciphertext: string;
  iv: string;
  wrappedKeys: Record<string, string>;
}

/** Encrypts `text` for `recipients` (address → public key), as the sender's browser does. */
export function encryptMessage(
  conversationId: string,
  text: string,
  recipients: Record<string, string>,
  messageId: string = randomUUID(),
): Envelope {
  const aad = associatedData(conversationId, messageId);
  const contentKey = randomBytes(32);
  const { iv, sealed } = seal(contentKey, Buffer.from(text, 'utf8'), aad);
  const wrappedKeys = Object.fromEntries(
    Object.entries(recipients).map(([address, publicKey]) => [
      address,
      wrapContentKey(contentKey, publicKey, aad),
    ]),
  );
  return { messageId, ciphertext: sealed.toString('base64url'), iv: iv.toString('base64url'), wrappedKeys };
}

/** Decrypts a message as the API hands it to `me` (`wrappedKey` is mine). */
export function decryptMessage(
  message: { conversationId: string; messageId: string; ciphertext: string; iv: string; wrappedKey: string },
  me: MessagingUser,
): string {
  const aad = associatedData(message.conversationId, message.messageId);
  const contentKey = unwrapContentKey(message.wrappedKey, me, aad);
  return open(
    contentKey,
    Buffer.from(message.iv, 'base64url'),
    Buffer.from(message.ciphertext, 'base64url'),
    aad,
  ).toString('utf8');
}

/** A new messaging key pair for `user`, registered through `PUT /messaging/keys/me` with a wallet signature. */
export async function withMessagingKey(api: TestApi, user: User): Promise<MessagingUser> {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = rawPublicKey(publicKey).toString('base64url');
  const signature = await user.wallet.signMessage(messagingKeyStatement(user.address, raw));
  const res = await api.request('PUT', '/messaging/keys/me', {
    token: user.token,
    body: { publicKey: raw, signature },
  });
  assert.equal(res.statusCode, 200, res.body);
  return { ...user, privateKey, publicKey: raw };
}

/** The public keys of `people`, as the sender's browser fetches them (and checks their signatures). */
export function keysOf(...people: MessagingUser[]): Record<string, string> {
  return Object.fromEntries(people.map((p) => [p.address, p.publicKey]));
}
