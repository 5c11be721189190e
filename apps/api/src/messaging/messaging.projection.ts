import {
  type Attachment,
  type ConversationEvent,
  type MessageKind,
  type MessageSentData,
  type MessagingKeyEvent,
  type ParticipantRole,
  type RecordedEvent,
  triagePriority,
} from '@custos/domain';
import type { ReadModelWriter } from '../read-models/read-model.port';
import type { Projection } from '../projections/projection';

/**
 * The messaging read models, written from the `conversation-*` and `messaging-key-*` streams only.
 * They hold ciphertext envelopes and metadata: there is no plaintext anywhere to project.
 *
 * - `messaging_keys`: each account's current X25519 key and the wallet signature binding it.
 * - `conversations`: one per conversation: care team, last activity and what triage needs.
 * - `conversation_members`: one per (conversation, participant, former providers included): the
 *   person's inbox entry with unread and hidden state, indexed for the inbox query.
 * - `messages`: one per envelope, with acknowledgments and read receipts.
 * - `message_feed`: one per (event, recipient) for messages, acknowledgments and read receipts, in
 *   store order: the history list ("what was sent to me") and the WebSocket resume read it.
 *
 * Must not import values from projections/read-models.ts (that file imports this one).
 */

/** Stream prefixes of the aggregates projected here (other streams reuse some event type names). */
export const CONVERSATION_STREAM_PREFIX = 'conversation-';
export const MESSAGING_KEY_STREAM_PREFIX = 'messaging-key-';

export interface MessagingKeyDocument {
  /** The account (lower case). */
  id: string;
  account: string;
  /** base64url X25519 public key. */
  publicKey: string;
  /** EIP-191 signature over `messagingKeyStatement(account, publicKey)`. */
  signature: string;
  previousKey: string | null;
  registeredAt: string;
  updatedAt: string;
  [key: string]: unknown;
}

export interface ConversationDocument {
  id: string;
  patient: string;
  /** The care team now. */
  providers: string[];
  /** Providers who left or were removed: they still read what was sent to them. */
  formerProviders: string[];
  startedBy: string;
  startedAt: string;
  lastMessageAt: string | null;
  /** The last message, or the start: what inboxes sort on. */
  lastActivityAt: string;
  messageCount: number;
  lastSenderRole: ParticipantRole | null;
  lastKind: MessageKind | null;
  /** When the side that wrote last started its current run of messages (unanswered since). */
  waitingSince: string | null;
  /** Whether any message of that run was flagged urgent. */
  waitingUrgent: boolean;
  updatedAt: string;
  [key: string]: unknown;
}

export interface ConversationMemberDocument {
  /** `${conversationId}|${participant}`. */
  id: string;
  conversationId: string;
  participant: string;
  role: ParticipantRole;
  /** False for a provider who left or was removed. */
  active: boolean;
  hidden: boolean;
  /** Messages others sent to this participant that they have not read. */
  unread: number;
  /** Messages others sent to this participant that ask for an acknowledgment they have not given. */
  awaitingAcknowledgment: number;
  lastActivityAt: string;
  updatedAt: string;
  [key: string]: unknown;
}

export interface Receipt {
  by: string;
  at: string;
}

export interface MessageDocument {
  /** `${conversationId}|${messageId}`. */
  id: string;
  conversationId: string;
  messageId: string;
  /** Global position of the MessageSent event. */
  position: number;
  sender: string;
  senderRole: ParticipantRole;
  kind: MessageKind;
  urgent: boolean;
  requiresAcknowledgment: boolean;
  ciphertext: string;
  iv: string;
  /** The content key wrapped for each recipient. */
  wrappedKeys: Record<string, string>;
  /** The participants it was sent to (sender included): exactly the keys of `wrappedKeys`. */
  recipients: string[];
  attachment: Attachment | null;
  sentAt: string;
  acknowledgedBy: Receipt[];
  readBy: Receipt[];
  updatedAt: string;
  [key: string]: unknown;
}

export type FeedItemType = 'message' | 'acknowledgment' | 'read';

export interface MessageFeedDocument {
  /** `${position}|${recipient}`. */
  id: string;
  recipient: string;
  position: number;
  conversationId: string;
  messageId: string;
  item: FeedItemType;
  /** The sender, or who acknowledged or read. */
  by: string;
  at: string;
  [key: string]: unknown;
}

export const messageDocumentId = (conversationId: string, messageId: string) =>
  `${conversationId}|${messageId}`;
export const memberDocumentId = (conversationId: string, participant: string) =>
  `${conversationId}|${participant}`;

/**
 * Who is told of an urgent message (`notifications`, kind `urgent_message`): every participant it was
 * sent to but the sender; for a patient's message, that is the care team. Triage is `urgent` exactly
 * when the sender flagged the message (triage.ts), whatever the role and the waiting time, so the
 * role (which this event does not carry) does not change the answer. Deterministic, for projections.
 */
export function urgentMessageRecipients(event: RecordedEvent, data: MessageSentData): string[] {
  if (!event.stream.startsWith(CONVERSATION_STREAM_PREFIX)) return [];
  const { priority } = triagePriority({
    senderRole: 'provider',
    urgentFlag: data.urgent,
    hoursSinceLastReply: 0,
    hoursToNextAppointment: null,
    kind: data.kind,
  });
  return priority === 'urgent' ? Object.keys(data.wrappedKeys).filter((r) => r !== data.sender) : [];
}

// ----------------------------------------------------------------------------------------- apply

type Data<T extends { type: string; data: unknown }, K extends T['type']> = Extract<T, { type: K }>['data'];
type Handlers<E extends { type: string; data: unknown }> = {
  [K in E['type']]: (data: Data<E, K>, event: RecordedEvent, w: ReadModelWriter) => Promise<void>;
};

async function member(
  w: ReadModelWriter,
  conversationId: string,
  participant: string,
): Promise<ConversationMemberDocument | null> {
  return w.get<ConversationMemberDocument>(
    'conversation_members',
    memberDocumentId(conversationId, participant),
  );
}

async function changeMember(
  w: ReadModelWriter,
  conversationId: string,
  participant: string,
  event: RecordedEvent,
  change: (doc: ConversationMemberDocument) => Partial<ConversationMemberDocument>,
): Promise<void> {
  const doc = await member(w, conversationId, participant);
  if (doc) {
    await w.upsert('conversation_members', {
      ...doc,
      ...change(doc),
      updatedAt: event.metadata.occurredAt,
    });
  }
}

async function feed(
  w: ReadModelWriter,
  event: RecordedEvent,
  recipients: readonly string[],
  entry: Pick<MessageFeedDocument, 'conversationId' | 'messageId' | 'item' | 'by' | 'at'>,
): Promise<void> {
  for (const recipient of recipients) {
    await w.upsert('message_feed', {
      id: `${event.position}|${recipient}`,
      recipient,
      position: event.position,
      ...entry,
    } satisfies MessageFeedDocument);
  }
}

const keyHandlers: Handlers<MessagingKeyEvent> = {
  MessagingKeyRegistered: async (d, event, w) => {
    await w.upsert('messaging_keys', {
      id: d.account,
      account: d.account,
      publicKey: d.publicKey,
      signature: d.signature,
      previousKey: d.previousKey,
      registeredAt: event.metadata.occurredAt,
      updatedAt: event.metadata.occurredAt,
    } satisfies MessagingKeyDocument);
  },
};

const conversationHandlers: Handlers<ConversationEvent> = {
  ConversationStarted: async (d, event, w) => {
    await w.upsert('conversations', {
      id: d.conversationId,
      patient: d.patient,
      providers: [...d.providers],
      formerProviders: [],
      startedBy: d.startedBy,
      startedAt: d.startedAt,
      lastMessageAt: null,
      lastActivityAt: d.startedAt,
      messageCount: 0,
      lastSenderRole: null,
      lastKind: null,
      waitingSince: null,
      waitingUrgent: false,
      updatedAt: event.metadata.occurredAt,
    } satisfies ConversationDocument);
    const roles: [string, ParticipantRole][] = [
      [d.patient, 'patient'],
      ...d.providers.map((p): [string, ParticipantRole] => [p, 'provider']),
    ];
    for (const [participant, role] of roles) {
      await w.upsert('conversation_members', {
        id: memberDocumentId(d.conversationId, participant),
        conversationId: d.conversationId,
        participant,
        role,
        active: true,
        hidden: false,
        unread: 0,
        awaitingAcknowledgment: 0,
        lastActivityAt: d.startedAt,
        updatedAt: event.metadata.occurredAt,
      } satisfies ConversationMemberDocument);
    }
  },

  MessageSent: async (d, event, w) => {
    const conversation = await w.get<ConversationDocument>('conversations', d.conversationId);
    if (!conversation) return;
    const senderRole: ParticipantRole = d.sender === conversation.patient ? 'patient' : 'provider';
    const newRun = conversation.lastSenderRole !== senderRole;
    await w.upsert('conversations', {
      ...conversation,
      lastMessageAt: d.sentAt,
      lastActivityAt: d.sentAt,
      messageCount: conversation.messageCount + 1,
      lastSenderRole: senderRole,
      lastKind: d.kind,
      waitingSince: newRun ? d.sentAt : conversation.waitingSince,
      waitingUrgent: newRun ? d.urgent : conversation.waitingUrgent || d.urgent,
      updatedAt: event.metadata.occurredAt,
    } satisfies ConversationDocument);

    const recipients = Object.keys(d.wrappedKeys);
    await w.upsert('messages', {
      id: messageDocumentId(d.conversationId, d.messageId),
      conversationId: d.conversationId,
      messageId: d.messageId,
      position: event.position,
      sender: d.sender,
      senderRole,
      kind: d.kind,
      urgent: d.urgent,
      requiresAcknowledgment: d.requiresAcknowledgment,
      ciphertext: d.ciphertext,
      iv: d.iv,
      wrappedKeys: { ...d.wrappedKeys },
      recipients,
      attachment: d.attachment ? { blobId: d.attachment.blobId, size: d.attachment.size } : null,
      sentAt: d.sentAt,
      acknowledgedBy: [],
      readBy: [],
      updatedAt: event.metadata.occurredAt,
    } satisfies MessageDocument);

    for (const recipient of recipients) {
      const fromOthers = recipient !== d.sender;
      await changeMember(w, d.conversationId, recipient, event, (m) => ({
        lastActivityAt: d.sentAt,
        unread: m.unread + (fromOthers ? 1 : 0),
        awaitingAcknowledgment: m.awaitingAcknowledgment + (fromOthers && d.requiresAcknowledgment ? 1 : 0),
      }));
    }
    await feed(w, event, recipients, {
      conversationId: d.conversationId,
      messageId: d.messageId,
      item: 'message',
      by: d.sender,
      at: d.sentAt,
    });
  },

  MessageAcknowledged: async (d, event, w) => {
    const id = messageDocumentId(d.conversationId, d.messageId);
    const message = await w.get<MessageDocument>('messages', id);
    if (!message) return;
    await w.upsert('messages', {
      ...message,
      acknowledgedBy: [...message.acknowledgedBy, { by: d.by, at: d.acknowledgedAt }],
      updatedAt: event.metadata.occurredAt,
    });
    if (message.recipients.includes(d.by)) {
      await changeMember(w, d.conversationId, d.by, event, (m) => ({
        awaitingAcknowledgment: Math.max(0, m.awaitingAcknowledgment - 1),
      }));
    }
    await feed(w, event, message.recipients, {
      conversationId: d.conversationId,
      messageId: d.messageId,
      item: 'acknowledgment',
      by: d.by,
      at: d.acknowledgedAt,
    });
  },

  MessageRead: async (d, event, w) => {
    const id = messageDocumentId(d.conversationId, d.messageId);
    const message = await w.get<MessageDocument>('messages', id);
    if (!message) return;
    await w.upsert('messages', {
      ...message,
      readBy: [...message.readBy, { by: d.by, at: d.readAt }],
      updatedAt: event.metadata.occurredAt,
    });
    if (message.recipients.includes(d.by)) {
      await changeMember(w, d.conversationId, d.by, event, (m) => ({ unread: Math.max(0, m.unread - 1) }));
    }
    await feed(w, event, message.recipients, {
      conversationId: d.conversationId,
      messageId: d.messageId,
      item: 'read',
      by: d.by,
      at: d.readAt,
    });
  },

  ConversationHidden: (d, event, w) =>
    changeMember(w, d.conversationId, d.by, event, () => ({ hidden: true })),
  ConversationUnhidden: (d, event, w) =>
    changeMember(w, d.conversationId, d.by, event, () => ({ hidden: false })),

  ParticipantAdded: async (d, event, w) => {
    const conversation = await w.get<ConversationDocument>('conversations', d.conversationId);
    if (!conversation) return;
    await w.upsert('conversations', {
      ...conversation,
      providers: conversation.providers.includes(d.provider)
        ? conversation.providers
        : [...conversation.providers, d.provider],
      formerProviders: conversation.formerProviders.filter((p) => p !== d.provider),
      updatedAt: event.metadata.occurredAt,
    });
    const existing = await member(w, d.conversationId, d.provider);
    await w.upsert('conversation_members', {
      id: memberDocumentId(d.conversationId, d.provider),
      conversationId: d.conversationId,
      participant: d.provider,
      role: 'provider',
      active: true,
      hidden: existing?.hidden ?? false,
      unread: existing?.unread ?? 0,
      awaitingAcknowledgment: existing?.awaitingAcknowledgment ?? 0,
      lastActivityAt: conversation.lastActivityAt,
      updatedAt: event.metadata.occurredAt,
    } satisfies ConversationMemberDocument);
  },

  ParticipantRemoved: async (d, event, w) => {
    const conversation = await w.get<ConversationDocument>('conversations', d.conversationId);
    if (!conversation) return;
    await w.upsert('conversations', {
      ...conversation,
      providers: conversation.providers.filter((p) => p !== d.provider),
      formerProviders: conversation.formerProviders.includes(d.provider)
        ? conversation.formerProviders
        : [...conversation.formerProviders, d.provider],
      updatedAt: event.metadata.occurredAt,
    });
    await changeMember(w, d.conversationId, d.provider, event, () => ({ active: false }));
  },
};

const table = { ...keyHandlers, ...conversationHandlers } as Record<
  string,
  (data: unknown, event: RecordedEvent, w: ReadModelWriter) => Promise<void>
>;
const KEY_EVENT_TYPES = new Set(Object.keys(keyHandlers));

export const messagingProjection: Projection = {
  name: 'messaging',
  // Indexed for the queries that exist and nothing else: a message send rewrites its conversation, both
  // members and a feed entry per recipient, and every index of those is one more B-tree written each
  // time (the single-field ones that only repeated a compound's prefix, or served no query, cost
  // bench:api's message sends ~9% of their CPU). Conversations and messages are only read by id.
  collections: [
    { name: 'messaging_keys', indexes: [] },
    { name: 'conversations', indexes: [] },
    {
      name: 'conversation_members',
      // The inbox, newest first (with or without hidden ones); `participant` alone serves the triaged
      // inbox, read whole in id order.
      indexes: ['participant'],
      compoundIndexes: [
        ['participant', 'lastActivityAt'],
        ['participant', 'hidden', 'lastActivityAt'],
      ],
    },
    { name: 'messages', indexes: [] },
    {
      name: 'message_feed',
      // `position` alone: the recipients of a message just sent (live delivery).
      indexes: ['position'],
      // A conversation's page of messages; a connection's replay from a position.
      compoundIndexes: [
        ['recipient', 'conversationId', 'item', 'position'],
        ['recipient', 'position'],
      ],
    },
  ],
  eventTypes: new Set(Object.keys(table)),
  apply: async (event, writer) => {
    // Consultations also have a `ParticipantRemoved`: the stream tells whose event it is.
    const prefix = KEY_EVENT_TYPES.has(event.type) ? MESSAGING_KEY_STREAM_PREFIX : CONVERSATION_STREAM_PREFIX;
    if (!event.stream.startsWith(prefix)) return;
    await table[event.type]?.(event.data, event, writer);
  },
};
