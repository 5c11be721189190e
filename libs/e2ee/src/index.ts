/**
 * End-to-end encryption for messages and records, on WebCrypto only (the same code in the browser and
 * in Node 20), so that the server only ever stores and relays ciphertext.
 *
 * - Each user has an X25519 key pair; the public key (32 raw bytes, base64url) is registered with the
 *   API, bound to the wallet by an EIP-191 signature (see `messagingKeyStatement` in libs/domain).
 * - Content: AES-256-GCM under a fresh random 256-bit content key, 12-byte random IV, with optional
 *   additional data (e.g. the conversation and message ids, so the server cannot move a ciphertext to
 *   another message without decryption failing).
 * - The content key is wrapped for each recipient (ECIES): an ephemeral X25519 key pair per recipient,
 *   ECDH with the recipient's public key, HKDF-SHA256 (salt = ephemeral public ‖ recipient public,
 *   info = "custos-e2ee-v1 key wrap") to a 256-bit key-encryption key, AES-256-GCM of the content key.
 *   A wrapped key is ephemeralPublic(32) ‖ iv(12) ‖ encryptedKey(32 + 16 tag) = 92 bytes, base64url.
 * - Records: a random 256-bit key per record; the blob is iv(12) ‖ AES-256-GCM(record) bound to its
 *   patient, the metadata a second AES-256-GCM message under the same key bound to the blob's content
 *   address. The record key is shared with `wrapKey` like a content key.
 *
 * Any tampering (ciphertext, IV, additional data, wrapped key) fails decryption with `IntegrityError`.
 */

// Types from the runtime's own WebCrypto (DOM lib in the browser, @types/node in Node).
type Subtle = typeof globalThis.crypto.subtle;
export type E2eeKey = Awaited<ReturnType<Subtle['importKey']>>;
type KeyPair = { publicKey: E2eeKey; privateKey: E2eeKey };

const subtle = (): Subtle => globalThis.crypto.subtle;
const WRAP_INFO = new TextEncoder().encode('custos-e2ee-v1 key wrap');
const KEY_BYTES = 32;
const IV_BYTES = 12;
export const WRAPPED_KEY_BYTES = KEY_BYTES + IV_BYTES + KEY_BYTES + 16;

/** Decryption failed: the data was changed, or it was not meant for this key. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

export function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError('not base64url');
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

const random = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));

// WebCrypto's typings want ArrayBuffer-backed views; copies are cheap at these sizes.
const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;

export interface MessagingKeyPair {
  /** 32 raw bytes, base64url: what the API registers. */
  publicKey: string;
  privateKey: E2eeKey;
}

/** A new X25519 key pair; the private key is extractable so that the wallet can keep it encrypted. */
export async function generateKeyPair(): Promise<MessagingKeyPair> {
  const pair = (await subtle().generateKey({ name: 'X25519' }, true, ['deriveBits'])) as KeyPair;
  const raw = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { publicKey: toBase64url(raw), privateKey: pair.privateKey };
}

/**
 * The text a wallet signs (EIP-191) to derive its messaging key: the same wallet always derives the
 * same key (wallet signatures are deterministic, RFC 6979), so the key needs no storage or backup of
 * its own and follows the wallet to another browser. Never sign it for anything but Custos.
 */
export const KEY_DERIVATION_MESSAGE =
  'Custos: unlock my end-to-end encryption key.\n\nSigning this does not send anything or cost anything. Only sign it in the Custos app.';

const X25519_PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

/** The X25519 key pair derived (HKDF-SHA256) from the wallet's signature of KEY_DERIVATION_MESSAGE. */
export async function deriveKeyPair(walletSignature: string): Promise<MessagingKeyPair> {
  const hex = walletSignature.replace(/^0x/, '');
  if (!/^[0-9a-fA-F]{130}$/.test(hex)) throw new TypeError('expected a 65-byte wallet signature');
  const signature = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const hkdf = await subtle().importKey('raw', buffer(signature), 'HKDF', false, ['deriveBits']);
  const seed = new Uint8Array(
    await subtle().deriveBits(
      {
        name: 'HKDF',
        hash: 'SHA-256',
        salt: buffer(new Uint8Array(32)),
        info: buffer(new TextEncoder().encode('custos-e2ee-v1 identity key')),
      },
      hkdf,
      256,
    ),
  );
  const privateKey = await importPrivateKey(concat(X25519_PKCS8_PREFIX, seed));
  seed.fill(0);
  // The public key, from the private key's JWK (x is the public point).
  const jwk = await subtle().exportKey('jwk', privateKey);
  if (typeof jwk.x !== 'string') throw new Error('the runtime did not give the public key');
  return { publicKey: jwk.x, privateKey };
}

/** The private key as PKCS#8 bytes (to store encrypted), and back. */
export async function exportPrivateKey(key: E2eeKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle().exportKey('pkcs8', key));
}

export async function importPrivateKey(pkcs8: Uint8Array): Promise<E2eeKey> {
  return subtle().importKey('pkcs8', buffer(pkcs8), { name: 'X25519' }, true, ['deriveBits']);
}

async function importPublicKey(publicKey: string): Promise<E2eeKey> {
  const raw = fromBase64url(publicKey);
  if (raw.length !== KEY_BYTES) throw new TypeError('an X25519 public key is 32 bytes');
  return subtle().importKey('raw', buffer(raw), { name: 'X25519' }, true, []);
}

async function keyEncryptionKey(
  privateKey: E2eeKey,
  publicKey: E2eeKey,
  salt: Uint8Array,
  usage: 'encrypt' | 'decrypt',
): Promise<E2eeKey> {
  const shared = await subtle().deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256);
  const hkdf = await subtle().importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: buffer(salt), info: buffer(WRAP_INFO) },
    hkdf,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

/** Wraps a 32-byte content key for one recipient's public key. */
export async function wrapKey(contentKey: Uint8Array, recipientPublicKey: string): Promise<string> {
  const recipient = await importPublicKey(recipientPublicKey);
  const ephemeral = (await subtle().generateKey({ name: 'X25519' }, true, ['deriveBits'])) as KeyPair;
  const ephemeralRaw = new Uint8Array(await subtle().exportKey('raw', ephemeral.publicKey));
  const salt = concat(ephemeralRaw, fromBase64url(recipientPublicKey));
  const kek = await keyEncryptionKey(ephemeral.privateKey, recipient, salt, 'encrypt');
  const iv = random(IV_BYTES);
  const sealed = new Uint8Array(
    await subtle().encrypt({ name: 'AES-GCM', iv: buffer(iv) }, kek, buffer(contentKey)),
  );
  return toBase64url(concat(ephemeralRaw, iv, sealed));
}

/** Unwraps a content key wrapped for `ownPublicKey` with the matching private key. */
export async function unwrapKey(
  wrapped: string,
  ownPrivateKey: E2eeKey,
  ownPublicKey: string,
): Promise<Uint8Array> {
  const bytes = fromBase64url(wrapped);
  if (bytes.length !== WRAPPED_KEY_BYTES) throw new IntegrityError('a wrapped key is 92 bytes');
  const ephemeralRaw = bytes.subarray(0, KEY_BYTES);
  const iv = bytes.subarray(KEY_BYTES, KEY_BYTES + IV_BYTES);
  const sealed = bytes.subarray(KEY_BYTES + IV_BYTES);
  try {
    const ephemeral = await subtle().importKey('raw', buffer(ephemeralRaw), { name: 'X25519' }, true, []);
    const salt = concat(ephemeralRaw, fromBase64url(ownPublicKey));
    const kek = await keyEncryptionKey(ownPrivateKey, ephemeral, salt, 'decrypt');
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: buffer(iv) }, kek, buffer(sealed)));
  } catch {
    throw new IntegrityError('the wrapped key does not open with this key: changed, or not for you');
  }
}

export interface SealedContent {
  /** base64url AES-256-GCM ciphertext with its 16-byte tag. */
  ciphertext: string;
  /** base64url, 12 bytes. */
  iv: string;
  /** The content key wrapped for each recipient, by the recipient's id (e.g. a lower-case address). */
  wrappedKeys: Record<string, string>;
}

/**
 * Encrypts `plaintext` once and wraps its key for every recipient (include the sender to read it back).
 * `additionalData` is authenticated, not encrypted: the same bytes must be given to `open`.
 */
export async function seal(
  plaintext: Uint8Array,
  recipients: Readonly<Record<string, string>>,
  additionalData?: Uint8Array,
): Promise<SealedContent> {
  const contentKey = random(KEY_BYTES);
  const key = await subtle().importKey('raw', buffer(contentKey), 'AES-GCM', false, ['encrypt']);
  const iv = random(IV_BYTES);
  const ciphertext = new Uint8Array(
    await subtle().encrypt(
      {
        name: 'AES-GCM',
        iv: buffer(iv),
        ...(additionalData ? { additionalData: buffer(additionalData) } : {}),
      },
      key,
      buffer(plaintext),
    ),
  );
  const wrappedKeys: Record<string, string> = {};
  for (const [id, publicKey] of Object.entries(recipients))
    wrappedKeys[id] = await wrapKey(contentKey, publicKey);
  contentKey.fill(0);
  return { ciphertext: toBase64url(ciphertext), iv: toBase64url(iv), wrappedKeys };
}

/** Decrypts sealed content as recipient `id`; IntegrityError when anything was changed. */
export async function open(
  sealed: Pick<SealedContent, 'ciphertext' | 'iv' | 'wrappedKeys'>,
  id: string,
  own: MessagingKeyPair,
  additionalData?: Uint8Array,
): Promise<Uint8Array> {
  const wrapped = sealed.wrappedKeys[id];
  if (!wrapped) throw new IntegrityError('this content was not encrypted for you');
  const contentKey = await unwrapKey(wrapped, own.privateKey, own.publicKey);
  try {
    const key = await subtle().importKey('raw', buffer(contentKey), 'AES-GCM', false, ['decrypt']);
    return new Uint8Array(
      await subtle().decrypt(
        {
          name: 'AES-GCM',
          iv: buffer(fromBase64url(sealed.iv)),
          ...(additionalData ? { additionalData: buffer(additionalData) } : {}),
        },
        key,
        buffer(fromBase64url(sealed.ciphertext)),
      ),
    );
  } catch {
    throw new IntegrityError('the content was changed after it was encrypted');
  } finally {
    contentKey.fill(0);
  }
}

/**
 * The additional data of a message's content: binds the ciphertext to its place
 * (`custos-message|<conversation>|<message id in lower case>`), so the server cannot move it to
 * another conversation or message without decryption failing. The web app and the API tests both
 * use this one definition.
 */
export function messageAdditionalData(conversationId: string, messageId: string): Uint8Array {
  return utf8.encode(`custos-message|${conversationId}|${messageId.toLowerCase()}`);
}

// ------------------------------------------------------------------------------------------ records

/** What a record is, shown in lists; encrypted under the record key like the record itself. */
export interface RecordMetadata {
  title: string;
  mediaType: string;
  fileName?: string;
  format: 'fhir' | 'file';
}

export interface SealedRecord {
  /** 12-byte IV ‖ AES-256-GCM ciphertext ‖ 16-byte tag: the bytes uploaded and content-addressed. */
  blob: Uint8Array;
  /** The record's 256-bit key: share it with `wrapKey(key, recipientPublicKey)`, wipe it when done. */
  key: Uint8Array;
}

const RECORD_FORMATS: readonly RecordMetadata['format'][] = ['fhir', 'file'];
const GCM_TAG_BYTES = 16;

/**
 * The additional data of a record blob: `custos-record|<patient address in lower case>`. The blob's
 * content address is its hash, unknown before sealing, so the blob binds to its patient instead: a
 * blob of one patient does not open as another patient's record.
 */
export function recordAdditionalData(patient: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]{40}$/.test(patient)) throw new TypeError('a record belongs to a patient address');
  return utf8.encode(`custos-record|${patient.toLowerCase()}`);
}

/**
 * The additional data of a record's metadata: `custos-record-metadata|<content address>`, so the
 * server cannot show one record's title and type on another record's blob.
 */
export function recordMetadataAdditionalData(cid: string): Uint8Array {
  if (typeof cid !== 'string' || cid.length === 0)
    throw new TypeError('record metadata belongs to a content address');
  return utf8.encode(`custos-record-metadata|${cid}`);
}

async function recordKey(key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<E2eeKey> {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES)
    throw new TypeError('a record key is 32 bytes');
  return subtle().importKey('raw', buffer(key), 'AES-GCM', false, [usage]);
}

async function gcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) {
  const cryptoKey = await recordKey(key, 'encrypt');
  return new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv: buffer(iv), additionalData: buffer(aad) },
      cryptoKey,
      buffer(plaintext),
    ),
  );
}

async function gcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array) {
  const cryptoKey = await recordKey(key, 'decrypt');
  try {
    return new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv: buffer(iv), additionalData: buffer(aad) },
        cryptoKey,
        buffer(ciphertext),
      ),
    );
  } catch {
    throw new IntegrityError('the record was changed after it was sealed, or is not for this key or place');
  }
}

/**
 * Encrypts a record under a fresh random 256-bit key (AES-256-GCM, random 12-byte IV, additional data
 * `recordAdditionalData(patient)`). Upload `blob`; wrap `key` for each reader.
 */
export async function sealRecord(plaintext: Uint8Array, patient: string): Promise<SealedRecord> {
  const aad = recordAdditionalData(patient);
  const key = random(KEY_BYTES);
  const iv = random(IV_BYTES);
  return { blob: concat(iv, await gcmEncrypt(key, iv, plaintext, aad)), key };
}

/** Decrypts a blob sealed by `sealRecord` for `patient`; IntegrityError when anything was changed. */
export async function openRecord(blob: Uint8Array, key: Uint8Array, patient: string): Promise<Uint8Array> {
  const aad = recordAdditionalData(patient);
  if (!(blob instanceof Uint8Array) || blob.length < IV_BYTES + GCM_TAG_BYTES)
    throw new IntegrityError('a sealed record is at least 28 bytes (IV and tag)');
  return gcmDecrypt(key, blob.subarray(0, IV_BYTES), blob.subarray(IV_BYTES), aad);
}

/**
 * Encrypts the record's metadata under the record key, with its own random IV (two random IVs under
 * one key are safe for AES-GCM) and additional data `recordMetadataAdditionalData(cid)`.
 */
export async function sealRecordMetadata(
  metadata: RecordMetadata,
  key: Uint8Array,
  cid: string,
): Promise<{ iv: string; ciphertext: string }> {
  const aad = recordMetadataAdditionalData(cid);
  const described = recordMetadata(metadata);
  if (!described)
    throw new TypeError('record metadata is a title, a media type, a format and an optional file name');
  const iv = random(IV_BYTES);
  const ciphertext = await gcmEncrypt(key, iv, utf8.encode(JSON.stringify(described)), aad);
  return { iv: toBase64url(iv), ciphertext: toBase64url(ciphertext) };
}

/** Decrypts metadata sealed by `sealRecordMetadata` for `cid`; IntegrityError when anything was changed. */
export async function openRecordMetadata(
  sealed: { iv: string; ciphertext: string },
  key: Uint8Array,
  cid: string,
): Promise<RecordMetadata> {
  const aad = recordMetadataAdditionalData(cid);
  let iv: Uint8Array;
  let ciphertext: Uint8Array;
  try {
    iv = fromBase64url(sealed.iv);
    ciphertext = fromBase64url(sealed.ciphertext);
  } catch {
    throw new IntegrityError('sealed record metadata is base64url');
  }
  if (iv.length !== IV_BYTES) throw new IntegrityError('the metadata IV is 12 bytes');
  const plaintext = await gcmDecrypt(key, iv, ciphertext, aad);
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(plaintext));
  } catch {
    parsed = undefined;
  }
  const described = recordMetadata(parsed);
  if (!described) throw new IntegrityError('the sealed metadata does not describe a record');
  return described;
}

/** The metadata's own fields only (nothing else is sealed or returned), or undefined when malformed. */
function recordMetadata(value: unknown): RecordMetadata | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { title, mediaType, fileName, format } = value as Record<string, unknown>;
  if (typeof title !== 'string' || typeof mediaType !== 'string') return undefined;
  if (fileName !== undefined && typeof fileName !== 'string') return undefined;
  if (!RECORD_FORMATS.includes(format as RecordMetadata['format'])) return undefined;
  return {
    title,
    mediaType,
    ...(fileName !== undefined ? { fileName } : {}),
    format: format as RecordMetadata['format'],
  };
}

/** Text helpers: UTF-8 in and out. */
export const utf8 = {
  encode: (text: string): Uint8Array => new TextEncoder().encode(text),
  decode: (bytes: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(bytes),
};
