import { conflict, type Decider, forbidden, invalid, notFound } from './decider';
import type { EventDraft } from './events';
import { emptyKeyedMap, type KeyedMap, keyedEntries, keyedGet, keyedSet } from './keyed-map';

/**
 * End-to-end encrypted messaging between a patient and their care team. The server never sees
 * plaintext: the browser encrypts each message with a fresh content key (AES-256-GCM), wraps that key
 * for every participant with their X25519 messaging key, and sends the envelope. This module decides
 * on envelopes only: who may send what to whom, and what happened to each message.
 *
 * Two aggregates:
 * - the messaging key of an account (`messaging-key-<address>`): the X25519 public key others wrap
 *   content keys for, bound to the wallet by an EIP-191 signature over `messagingKeyStatement`;
 * - a conversation (`conversation-<id>`): one patient, one or more providers (the care team), and the
 *   envelopes they exchanged, with acknowledgments, read receipts and per-person hiding.
 *
 * Consent rule (the API evaluates it and passes the answer as `messagingAllowed`): a message from or
 * to a provider is allowed only while the patient has an active on-chain grant of category `messaging`
 * to that provider. A conversation carries every message to every participant, so `messagingAllowed`
 * means "at `now`, the patient has an active `messaging` grant to every provider currently in the
 * conversation"; the patient's messages therefore only ever go to providers that have one. When a grant
 * lapses or is revoked, new messages (and new conversations) are refused with 403
 * `messaging_consent_required` until the patient grants again, or removes that provider from the
 * conversation; the history stays readable, and acknowledgments, read receipts and hiding need no grant.
 *
 * Retention: nothing is ever deleted. There is no delete command for a conversation or a message; a
 * participant may hide a conversation from their own inbox and show it again. The event store keeps a
 * conversation at least `RETENTION_YEARS` after its last message.
 *
 * Addresses are lower-case 0x-prefixed hex (the API lower-cases them). Binary values are base64url
 * without padding (RFC 4648 §5), in canonical form.
 */

export const messagingKeyStream = (address: string): string => `messaging-key-${address}`;
export const conversationStream = (conversationId: string): string => `conversation-${conversationId}`;

/** Years a conversation is kept after its last message (HIPAA's six-year documentation retention). */
export const RETENTION_YEARS = 6;

/** An X25519 public key: 32 bytes, sent as base64url (43 characters). */
export const PUBLIC_KEY_BYTES = 32;
/** The AES-GCM nonce of a message: 12 bytes (16 base64url characters). */
export const IV_BYTES = 12;
/** The AES-GCM authentication tag: every ciphertext is at least this long. */
export const GCM_TAG_BYTES = 16;
/** Largest message ciphertext (tag included) carried in the event itself: 64 KiB. */
export const MAX_CIPHERTEXT_BYTES = 64 * 1024;
/** Largest wrapped content key for one participant (ephemeral key, nonce, wrapped key and tag fit). */
export const MAX_WRAPPED_KEY_BYTES = 512;
/** Largest attachment ciphertext, stored as a blob outside the event: 50 MiB. */
export const MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024;
/** Most providers in one conversation. */
export const MAX_CARE_TEAM_SIZE = 20;

export const MESSAGE_KINDS = [
  'text',
  'attachment',
  'lab_result',
  'prescription',
  'referral',
  'care_plan',
  'imaging',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Structured medical content: only providers send these. */
export const PROVIDER_ONLY_KINDS: readonly MessageKind[] = [
  'lab_result',
  'prescription',
  'referral',
  'care_plan',
  'imaging',
];

export type ParticipantRole = 'patient' | 'provider';

/** An encrypted attachment: the ciphertext blob is stored elsewhere (blob store), by its id. */
export interface Attachment {
  /** The blob store's id of the ciphertext (a content address, e.g. a CIDv1). */
  blobId: string;
  /** Size of the ciphertext blob in bytes. */
  size: number;
}

// ----------------------------------------------------------------------------------- validation

const ADDRESS = /^0x[0-9a-f]{40}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Conversation ids become stream names: letters, digits, `_` and `-` only. */
const CONVERSATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BLOB_ID = /^[A-Za-z0-9_.:-]{1,200}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

const isAddress = (value: unknown): value is string => typeof value === 'string' && ADDRESS.test(value);

/**
 * The number of bytes a canonical, unpadded base64url string encodes, or null when it is not one
 * (wrong characters, impossible length, or non-zero bits after the last byte).
 */
export function base64urlByteLength(value: unknown): number | null {
  if (typeof value !== 'string' || !BASE64URL.test(value)) return null;
  const rest = value.length % 4;
  if (rest === 1) return null;
  if (rest !== 0) {
    const last = BASE64URL_ALPHABET.indexOf(value.charAt(value.length - 1));
    const unusedBits = rest === 2 ? 0b1111 : 0b11;
    if ((last & unusedBits) !== 0) return null;
  }
  return Math.floor(value.length / 4) * 3 + (rest === 0 ? 0 : rest - 1);
}

// ========================================================================== messaging keys

/**
 * The exact text a wallet signs (EIP-191 `personal_sign`) to bind a messaging key to its account. The
 * API and the web app both build it here; the address is lower-cased so checksum casing cannot make
 * them disagree.
 */
export function messagingKeyStatement(address: string, publicKey: string): string {
  return `Custos messaging key\nAccount: ${address.toLowerCase()}\nKey: ${publicKey}`;
}

export type MessagingKeyEvent = EventDraft<
  'MessagingKeyRegistered',
  {
    account: string;
    /** base64url of the 32-byte X25519 public key. */
    publicKey: string;
    /** The account's EIP-191 signature over `messagingKeyStatement(account, publicKey)`. */
    signature: string;
    /** The key this one replaces (a rotation), or null for the account's first key. */
    previousKey: string | null;
  }
>;

export type MessagingKeyCommand = {
  type: 'RegisterMessagingKey';
  /** The signed-in account registering its own key. */
  actor: string;
  publicKey: string;
  signature: string;
  /**
   * Whether `signature` recovers to `actor` over `messagingKeyStatement(actor, publicKey)`. The API
   * verifies it (ethers `verifyMessage`); the domain has no cryptography.
   */
  signatureValid: boolean;
};

export interface MessagingKeyState {
  account: string | null;
  publicKey: string | null;
  signature: string | null;
}

const initialKeyState: MessagingKeyState = { account: null, publicKey: null, signature: null };

function decideKey(command: MessagingKeyCommand, state: MessagingKeyState): MessagingKeyEvent[] {
  switch (command.type) {
    case 'RegisterMessagingKey': {
      if (!isAddress(command.actor)) {
        throw invalid('invalid_address', 'the account must be a lower-case 0x-prefixed address');
      }
      if (state.account !== null && state.account !== command.actor) {
        throw invalid('wrong_stream', `this messaging key stream belongs to ${state.account}`);
      }
      if (base64urlByteLength(command.publicKey) !== PUBLIC_KEY_BYTES) {
        throw invalid(
          'invalid_public_key',
          `the messaging key must be a ${PUBLIC_KEY_BYTES}-byte X25519 public key in base64url`,
        );
      }
      if (!SIGNATURE.test(command.signature) || !command.signatureValid) {
        throw invalid('invalid_signature', 'the signature does not bind this key to the account');
      }
      if (state.publicKey === command.publicKey) return [];
      return [
        {
          type: 'MessagingKeyRegistered',
          version: 1,
          data: {
            account: command.actor,
            publicKey: command.publicKey,
            signature: command.signature,
            previousKey: state.publicKey,
          },
        },
      ];
    }
  }
}

function evolveKey(state: MessagingKeyState, event: MessagingKeyEvent): MessagingKeyState {
  switch (event.type) {
    case 'MessagingKeyRegistered':
      return {
        account: event.data.account,
        publicKey: event.data.publicKey,
        signature: event.data.signature,
      };
  }
}

export const messagingKeyDecider: Decider<MessagingKeyCommand, MessagingKeyState, MessagingKeyEvent> = {
  initialState: initialKeyState,
  decide: (command, state) => decideKey(command, state),
  evolve: evolveKey,
};

// ========================================================================== conversations

// ----------------------------------------------------------------------------------------- events

export interface MessageSentData {
  conversationId: string;
  /** Client-generated uuid: a retry with the same envelope decides nothing. */
  messageId: string;
  sender: string;
  kind: MessageKind;
  requiresAcknowledgment: boolean;
  /** Set by the sender's client; drives triage and notification. */
  urgent: boolean;
  /** base64url of the AES-256-GCM ciphertext with its tag, at most `MAX_CIPHERTEXT_BYTES`. */
  ciphertext: string;
  /** base64url of the 12-byte AES-GCM nonce. */
  iv: string;
  /** The content key wrapped for each participant (sender included, nobody else), base64url. */
  wrappedKeys: Readonly<Record<string, string>>;
  /** Present for messages with an encrypted blob (always for kind `attachment`). */
  attachment?: Attachment;
  /** ISO-8601 UTC. */
  sentAt: string;
}

export type ConversationEvent =
  | EventDraft<
      'ConversationStarted',
      {
        conversationId: string;
        patient: string;
        providers: string[];
        startedBy: string;
        /** ISO-8601 UTC. */
        startedAt: string;
      }
    >
  | EventDraft<'MessageSent', MessageSentData>
  | EventDraft<
      'MessageAcknowledged',
      { conversationId: string; messageId: string; by: string; acknowledgedAt: string }
    >
  | EventDraft<'MessageRead', { conversationId: string; messageId: string; by: string; readAt: string }>
  | EventDraft<'ConversationHidden', { conversationId: string; by: string }>
  | EventDraft<'ConversationUnhidden', { conversationId: string; by: string }>
  | EventDraft<'ParticipantAdded', { conversationId: string; provider: string; addedBy: string }>
  | EventDraft<'ParticipantRemoved', { conversationId: string; provider: string; removedBy: string }>;

export type ConversationEventType = ConversationEvent['type'];

// ----------------------------------------------------------------------------------------- commands

/** `actor` is always the signed-in account the API authenticated. */
export type ConversationCommand =
  | {
      type: 'StartConversation';
      conversationId: string;
      actor: string;
      patient: string;
      providers: string[];
      /** The patient has an active `messaging` grant to every one of `providers` at `now`. */
      messagingAllowed: boolean;
    }
  | {
      type: 'SendMessage';
      conversationId: string;
      actor: string;
      messageId: string;
      kind: MessageKind;
      requiresAcknowledgment: boolean;
      urgent: boolean;
      ciphertext: string;
      iv: string;
      wrappedKeys: Readonly<Record<string, string>>;
      attachment?: Attachment;
      /** The patient has an active `messaging` grant to every provider of the conversation at `now`. */
      messagingAllowed: boolean;
    }
  | { type: 'AcknowledgeMessage'; conversationId: string; actor: string; messageId: string }
  | { type: 'MarkMessageRead'; conversationId: string; actor: string; messageId: string }
  | { type: 'HideConversation'; conversationId: string; actor: string }
  | { type: 'UnhideConversation'; conversationId: string; actor: string }
  | {
      type: 'AddParticipant';
      conversationId: string;
      actor: string;
      provider: string;
      /** The patient has an active `messaging` grant to `provider` at `now`. */
      messagingAllowed: boolean;
    }
  | { type: 'RemoveParticipant'; conversationId: string; actor: string; provider: string };

// ----------------------------------------------------------------------------------------- state

/**
 * What the decisions need to know of a sent message, and nothing else (what it says, its kind and times
 * are in the event and the read models): a conversation holds thousands, and its folded state stays in
 * memory while it is in use (AggregateRepository). About 170 bytes each; the whole message took ~800.
 */
export interface ConversationMessage {
  /** The same string as the participant's in `patient` or `providers`, not a copy per message. */
  sender: string;
  requiresAcknowledgment: boolean;
  /** Participants who acknowledged, in order. */
  acknowledgedBy: readonly string[];
  /** Participants who read it (read receipts), in order. */
  readBy: readonly string[];
  /**
   * Tells a retry of the same envelope from a reuse of its id: a 53-bit non-cryptographic hash of
   * everything the sender chose (nonce and ciphertext included). Only the sender can collide with it.
   */
  fingerprint: number;
}

export interface ConversationState {
  conversationId: string | null;
  patient: string | null;
  /** The care team now, in the order they joined. */
  providers: readonly string[];
  /** Providers who left or were removed: they may still read what was sent to them. */
  formerProviders: readonly string[];
  startedBy: string | null;
  startedAt: string | null;
  /** Messages by id (lower case). */
  messages: KeyedMap<ConversationMessage>;
  /** Participants who hid the conversation from their inbox. */
  hiddenBy: readonly string[];
  lastMessageAt: string | null;
  lastSenderRole: ParticipantRole | null;
}

/** The patient and the current providers: who each new message must be wrapped for. */
export function conversationParticipants(state: ConversationState): string[] {
  return state.patient === null ? [] : [state.patient, ...state.providers];
}

/** The role of a current participant, or null for anyone else. */
export function participantRole(state: ConversationState, account: string): ParticipantRole | null {
  if (state.patient !== null && account === state.patient) return 'patient';
  return state.providers.includes(account) ? 'provider' : null;
}

export const isHiddenFor = (state: ConversationState, account: string): boolean =>
  state.hiddenBy.includes(account);

/** The ids of the messages others sent that `account` has not read yet, in no particular order. */
export function unreadFor(state: ConversationState, account: string): string[] {
  return [...keyedEntries(state.messages)]
    .filter(([, m]) => m.sender !== account && !m.readBy.includes(account))
    .map(([id]) => id);
}

/** The ids of the messages others sent that ask for an acknowledgment `account` has not given yet. */
export function awaitingAcknowledgmentFrom(state: ConversationState, account: string): string[] {
  return [...keyedEntries(state.messages)]
    .filter(
      ([, m]) => m.requiresAcknowledgment && m.sender !== account && !m.acknowledgedBy.includes(account),
    )
    .map(([id]) => id);
}

// ----------------------------------------------------------------------------------------- decider

const initialConversationState: ConversationState = {
  conversationId: null,
  patient: null,
  providers: [],
  formerProviders: [],
  startedBy: null,
  startedAt: null,
  messages: emptyKeyedMap(),
  hiddenBy: [],
  lastMessageAt: null,
  lastSenderRole: null,
};

/** cyrb53 (public domain): a 53-bit hash, deterministic, fast, not cryptographic. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

type Envelope = Pick<
  MessageSentData,
  'sender' | 'kind' | 'requiresAcknowledgment' | 'urgent' | 'ciphertext' | 'iv' | 'wrappedKeys' | 'attachment'
>;

function fingerprint(envelope: Envelope): number {
  const wrapped = Object.entries(envelope.wrappedKeys ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const content = JSON.stringify([
    envelope.sender,
    envelope.kind,
    envelope.requiresAcknowledgment,
    envelope.urgent,
    envelope.iv,
    envelope.ciphertext,
    wrapped,
    envelope.attachment ? [envelope.attachment.blobId, envelope.attachment.size] : null,
  ]);
  return hash53(content);
}

interface Started extends ConversationState {
  conversationId: string;
  patient: string;
}

function requireConversation(state: ConversationState, conversationId: string): Started {
  if (state.conversationId === null || state.patient === null) {
    throw notFound('conversation_not_found', `no conversation ${conversationId}`);
  }
  if (state.conversationId !== conversationId) {
    throw invalid('wrong_stream', `this stream holds conversation ${state.conversationId}`);
  }
  return state as Started;
}

function requireParticipant(state: ConversationState, account: string): ParticipantRole {
  const role = participantRole(state, account);
  if (role === null) throw forbidden('not_a_participant', `${account} is not in this conversation`);
  return role;
}

/** The message and its id as stored (lower case). */
function requireMessage(
  state: ConversationState,
  messageId: string,
): [message: ConversationMessage, id: string] {
  const id = messageId.toLowerCase();
  const message = keyedGet(state.messages, id);
  if (!message) throw notFound('message_not_found', `no message ${messageId} in this conversation`);
  return [message, id];
}

function requireMessagingAllowed(allowed: boolean): void {
  if (allowed !== true) {
    throw forbidden(
      'messaging_consent_required',
      'the patient has no active messaging grant to every provider of this conversation',
    );
  }
}

function checkCareTeam(patient: string, providers: readonly string[]): void {
  if (!isAddress(patient) || !providers.every(isAddress)) {
    throw invalid('invalid_address', 'participants must be lower-case 0x-prefixed addresses');
  }
  if (providers.length === 0 || providers.length > MAX_CARE_TEAM_SIZE) {
    throw invalid('invalid_care_team', `a conversation has 1 to ${MAX_CARE_TEAM_SIZE} providers`);
  }
  if (new Set(providers).size !== providers.length) {
    throw invalid('invalid_care_team', 'a provider appears twice in the care team');
  }
  if (providers.includes(patient)) {
    throw invalid('invalid_care_team', 'the patient cannot also be one of their providers');
  }
}

function checkEnvelope(
  command: Extract<ConversationCommand, { type: 'SendMessage' }>,
  role: ParticipantRole,
  participants: readonly string[],
): void {
  if (!(MESSAGE_KINDS as readonly string[]).includes(command.kind)) {
    throw invalid('invalid_kind', `kind must be one of ${MESSAGE_KINDS.join(', ')}`);
  }
  if (PROVIDER_ONLY_KINDS.includes(command.kind) && role !== 'provider') {
    throw forbidden('provider_only_kind', `only providers send ${command.kind} messages`);
  }
  if (typeof command.requiresAcknowledgment !== 'boolean' || typeof command.urgent !== 'boolean') {
    throw invalid('invalid_flags', 'requiresAcknowledgment and urgent must be booleans');
  }
  const ciphertextBytes = base64urlByteLength(command.ciphertext);
  if (ciphertextBytes === null || ciphertextBytes < GCM_TAG_BYTES) {
    throw invalid('invalid_ciphertext', 'the ciphertext must be base64url AES-GCM output with its tag');
  }
  if (ciphertextBytes > MAX_CIPHERTEXT_BYTES) {
    throw invalid('ciphertext_too_large', `a message ciphertext is at most ${MAX_CIPHERTEXT_BYTES} bytes`);
  }
  if (base64urlByteLength(command.iv) !== IV_BYTES) {
    throw invalid('invalid_iv', `the iv must be ${IV_BYTES} bytes in base64url`);
  }
  const wrappedKeys = command.wrappedKeys ?? {};
  const missing = participants.filter((p) => !Object.hasOwn(wrappedKeys, p));
  const extra = Object.keys(wrappedKeys).filter((k) => !participants.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    throw invalid(
      'wrapped_keys_mismatch',
      `the content key must be wrapped for exactly the participants` +
        (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
        (extra.length > 0 ? `; not participants: ${extra.join(', ')}` : ''),
    );
  }
  for (const participant of participants) {
    const bytes = base64urlByteLength(wrappedKeys[participant]);
    if (bytes === null || bytes === 0 || bytes > MAX_WRAPPED_KEY_BYTES) {
      throw invalid(
        'invalid_wrapped_key',
        `the wrapped key for ${participant} is not 1 to 512 bytes of base64url`,
      );
    }
  }
  const attachment = command.attachment;
  if (command.kind === 'attachment' && !attachment) {
    throw invalid('attachment_required', 'an attachment message must carry an attachment');
  }
  if (command.kind === 'text' && attachment) {
    throw invalid('attachment_not_allowed', 'a text message carries no attachment; use kind attachment');
  }
  if (attachment) {
    if (
      typeof attachment.blobId !== 'string' ||
      !BLOB_ID.test(attachment.blobId) ||
      !Number.isSafeInteger(attachment.size) ||
      attachment.size < GCM_TAG_BYTES ||
      attachment.size > MAX_ATTACHMENT_BYTES
    ) {
      throw invalid(
        'invalid_attachment',
        `an attachment is a blob id and a size of ${GCM_TAG_BYTES} to ${MAX_ATTACHMENT_BYTES} bytes`,
      );
    }
  }
}

function decideConversation(
  command: ConversationCommand,
  state: ConversationState,
  now: Date,
): ConversationEvent[] {
  switch (command.type) {
    case 'StartConversation': {
      if (!CONVERSATION_ID.test(command.conversationId)) {
        throw invalid('invalid_conversation_id', 'a conversation id is 1 to 64 letters, digits, _ or -');
      }
      checkCareTeam(command.patient, command.providers);
      if (command.actor !== command.patient && !command.providers.includes(command.actor)) {
        throw forbidden(
          'not_a_participant',
          'only the patient or one of the providers starts a conversation',
        );
      }
      if (state.conversationId !== null) {
        if (state.conversationId !== command.conversationId) {
          throw invalid('wrong_stream', `this stream holds conversation ${state.conversationId}`);
        }
        const same =
          state.patient === command.patient &&
          state.startedBy === command.actor &&
          state.providers.length === command.providers.length &&
          command.providers.every((p) => state.providers.includes(p));
        if (same) return []; // a retry of the same start
        throw conflict('conversation_exists', `conversation ${command.conversationId} already exists`);
      }
      requireMessagingAllowed(command.messagingAllowed);
      return [
        {
          type: 'ConversationStarted',
          version: 1,
          data: {
            conversationId: command.conversationId,
            patient: command.patient,
            providers: [...command.providers],
            startedBy: command.actor,
            startedAt: now.toISOString(),
          },
        },
      ];
    }

    case 'SendMessage': {
      const conversation = requireConversation(state, command.conversationId);
      const role = requireParticipant(conversation, command.actor);
      if (typeof command.messageId !== 'string' || !UUID.test(command.messageId.toLowerCase())) {
        throw invalid('invalid_message_id', 'a message id is a uuid generated by the client');
      }
      const messageId = command.messageId.toLowerCase();
      const envelope: Envelope = {
        sender: command.actor,
        kind: command.kind,
        requiresAcknowledgment: command.requiresAcknowledgment,
        urgent: command.urgent,
        ciphertext: command.ciphertext,
        iv: command.iv,
        wrappedKeys: command.wrappedKeys,
        ...(command.attachment ? { attachment: command.attachment } : {}),
      };
      const existing = keyedGet(conversation.messages, messageId);
      if (existing) {
        // A retry decides nothing, even once the grant has lapsed: the message was accepted in time.
        if (existing.fingerprint === fingerprint(envelope)) return [];
        throw conflict('message_exists', `message ${messageId} was already sent with different content`);
      }
      requireMessagingAllowed(command.messagingAllowed);
      const participants = conversationParticipants(conversation);
      checkEnvelope(command, role, participants);
      return [
        {
          type: 'MessageSent',
          version: 1,
          data: {
            conversationId: conversation.conversationId,
            messageId,
            sender: command.actor,
            kind: command.kind,
            requiresAcknowledgment: command.requiresAcknowledgment,
            urgent: command.urgent,
            ciphertext: command.ciphertext,
            iv: command.iv,
            wrappedKeys: Object.fromEntries(participants.map((p) => [p, command.wrappedKeys[p] as string])),
            ...(command.attachment
              ? { attachment: { blobId: command.attachment.blobId, size: command.attachment.size } }
              : {}),
            sentAt: now.toISOString(),
          },
        },
      ];
    }

    case 'AcknowledgeMessage': {
      const conversation = requireConversation(state, command.conversationId);
      requireParticipant(conversation, command.actor);
      const [message, messageId] = requireMessage(conversation, command.messageId);
      if (message.sender === command.actor) {
        throw forbidden('own_message', 'a sender does not acknowledge their own message');
      }
      if (!message.requiresAcknowledgment) {
        throw invalid('acknowledgment_not_required', `message ${messageId} asks for no acknowledgment`);
      }
      if (message.acknowledgedBy.includes(command.actor)) return [];
      const at = now.toISOString();
      const base = {
        conversationId: conversation.conversationId,
        messageId,
        by: command.actor,
      };
      // Acknowledging a message means having read it: the read receipt comes first if it is missing.
      return [
        ...(message.readBy.includes(command.actor)
          ? []
          : [{ type: 'MessageRead' as const, version: 1, data: { ...base, readAt: at } }]),
        { type: 'MessageAcknowledged', version: 1, data: { ...base, acknowledgedAt: at } },
      ];
    }

    case 'MarkMessageRead': {
      const conversation = requireConversation(state, command.conversationId);
      requireParticipant(conversation, command.actor);
      const [message, messageId] = requireMessage(conversation, command.messageId);
      if (message.sender === command.actor) {
        throw forbidden('own_message', 'a sender sends no read receipt for their own message');
      }
      if (message.readBy.includes(command.actor)) return [];
      return [
        {
          type: 'MessageRead',
          version: 1,
          data: {
            conversationId: conversation.conversationId,
            messageId,
            by: command.actor,
            readAt: now.toISOString(),
          },
        },
      ];
    }

    // Hiding is a view preference of one participant: it removes nothing. Former providers may tidy
    // their inbox too, since the history stays readable to them.
    case 'HideConversation':
    case 'UnhideConversation': {
      const conversation = requireConversation(state, command.conversationId);
      if (
        participantRole(conversation, command.actor) === null &&
        !conversation.formerProviders.includes(command.actor)
      ) {
        throw forbidden('not_a_participant', `${command.actor} is not in this conversation`);
      }
      const hidden = conversation.hiddenBy.includes(command.actor);
      const hide = command.type === 'HideConversation';
      if (hidden === hide) return [];
      return [
        {
          type: hide ? 'ConversationHidden' : 'ConversationUnhidden',
          version: 1,
          data: { conversationId: conversation.conversationId, by: command.actor },
        },
      ];
    }

    case 'AddParticipant': {
      const conversation = requireConversation(state, command.conversationId);
      if (command.actor !== conversation.patient) {
        throw forbidden('patient_only', 'only the patient adds a provider to their care team');
      }
      if (!isAddress(command.provider)) {
        throw invalid('invalid_address', 'the provider must be a lower-case 0x-prefixed address');
      }
      if (command.provider === conversation.patient) {
        throw invalid('invalid_care_team', 'the patient cannot also be one of their providers');
      }
      if (conversation.providers.includes(command.provider)) return [];
      if (conversation.providers.length >= MAX_CARE_TEAM_SIZE) {
        throw invalid('invalid_care_team', `a conversation has at most ${MAX_CARE_TEAM_SIZE} providers`);
      }
      requireMessagingAllowed(command.messagingAllowed);
      return [
        {
          type: 'ParticipantAdded',
          version: 1,
          data: {
            conversationId: conversation.conversationId,
            provider: command.provider,
            addedBy: command.actor,
          },
        },
      ];
    }

    // The patient removes a provider, or a provider leaves. Nothing sent before is taken back.
    case 'RemoveParticipant': {
      const conversation = requireConversation(state, command.conversationId);
      if (command.provider === conversation.patient) {
        throw invalid('invalid_care_team', 'the patient cannot be removed from their own conversation');
      }
      if (command.actor !== conversation.patient && command.actor !== command.provider) {
        throw forbidden('patient_only', 'only the patient removes a provider; a provider may only leave');
      }
      if (!conversation.providers.includes(command.provider)) return [];
      if (conversation.providers.length === 1) {
        throw conflict('last_provider', 'a conversation keeps at least one provider');
      }
      return [
        {
          type: 'ParticipantRemoved',
          version: 1,
          data: {
            conversationId: conversation.conversationId,
            provider: command.provider,
            removedBy: command.actor,
          },
        },
      ];
    }

    default: {
      // There is deliberately no delete: conversations and messages are retained (RETENTION_YEARS).
      const unknown: never = command;
      throw invalid('unknown_command', `unknown command ${String((unknown as { type?: unknown }).type)}`);
    }
  }
}

function withMessage(
  state: ConversationState,
  messageId: string,
  change: (message: ConversationMessage) => ConversationMessage,
): ConversationState {
  const message = keyedGet(state.messages, messageId);
  if (!message) return state;
  return { ...state, messages: keyedSet(state.messages, messageId, change(message)) };
}

const adding = (list: readonly string[], item: string): readonly string[] =>
  list.includes(item) ? list : [...list, item];

const NOBODY: readonly string[] = Object.freeze([]);

/** The state's own string for a participant (events parse into a new string each time). */
function participant(state: ConversationState, account: string): string {
  if (account === state.patient) return state.patient;
  return (
    state.providers.find((p) => p === account) ?? state.formerProviders.find((p) => p === account) ?? account
  );
}

function evolveConversation(state: ConversationState, event: ConversationEvent): ConversationState {
  switch (event.type) {
    case 'ConversationStarted': {
      const { conversationId, patient, providers, startedBy, startedAt } = event.data;
      return { ...state, conversationId, patient, providers: [...providers], startedBy, startedAt };
    }
    case 'MessageSent': {
      const data = event.data;
      const senderRole: ParticipantRole = data.sender === state.patient ? 'patient' : 'provider';
      return {
        ...state,
        messages: keyedSet(state.messages, data.messageId, {
          sender: participant(state, data.sender),
          requiresAcknowledgment: data.requiresAcknowledgment,
          acknowledgedBy: NOBODY,
          readBy: NOBODY,
          fingerprint: fingerprint(data),
        }),
        lastMessageAt: data.sentAt,
        lastSenderRole: senderRole,
      };
    }
    case 'MessageAcknowledged':
      return withMessage(state, event.data.messageId, (m) => ({
        ...m,
        acknowledgedBy: adding(m.acknowledgedBy, participant(state, event.data.by)),
      }));
    case 'MessageRead':
      return withMessage(state, event.data.messageId, (m) => ({
        ...m,
        readBy: adding(m.readBy, participant(state, event.data.by)),
      }));
    case 'ConversationHidden':
      return { ...state, hiddenBy: adding(state.hiddenBy, event.data.by) };
    case 'ConversationUnhidden':
      return { ...state, hiddenBy: state.hiddenBy.filter((a) => a !== event.data.by) };
    case 'ParticipantAdded':
      return {
        ...state,
        providers: adding(state.providers, event.data.provider),
        formerProviders: state.formerProviders.filter((a) => a !== event.data.provider),
      };
    case 'ParticipantRemoved':
      return {
        ...state,
        providers: state.providers.filter((a) => a !== event.data.provider),
        formerProviders: adding(state.formerProviders, event.data.provider),
      };
  }
}

export const conversationDecider: Decider<ConversationCommand, ConversationState, ConversationEvent> = {
  initialState: initialConversationState,
  decide: decideConversation,
  evolve: evolveConversation,
};
