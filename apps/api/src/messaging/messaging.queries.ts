import { Inject } from '@nestjs/common';
import { type IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { notFound, type TriageResult, triagePriority } from '@custos/domain';
import { findAll } from '../core/find-all';
import { InvalidQueryError, type Page, type ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ConsultationDocument } from '../telehealth/consultation.projection';
import type { ConversationView, MessageView, MessagingKeyView } from './messaging.dto';
import {
  type ConversationDocument,
  type ConversationMemberDocument,
  type MessageDocument,
  messageDocumentId,
  type MessageFeedDocument,
  type MessagingKeyDocument,
} from './messaging.projection';

/** Most inbox entries a provider's triaged inbox orders at once. */
export const MAX_TRIAGED_INBOX = 5_000;
const DEFAULT_PAGE = 100;
const HOUR_MS = 3_600_000;

/**
 * The conversation, if `account` is or was in it (former providers keep reading their history).
 * Anyone else gets the same 404 as for a conversation that does not exist.
 */
export async function visibleConversation(
  readModels: ReadModelStore,
  conversationId: string,
  account: string,
): Promise<ConversationDocument> {
  const conversation = await readModels.get<ConversationDocument>('conversations', conversationId);
  const member =
    conversation !== null &&
    (conversation.patient === account ||
      conversation.providers.includes(account) ||
      conversation.formerProviders.includes(account));
  if (!conversation || !member) {
    throw notFound('conversation_not_found', `no conversation ${conversationId} of yours`);
  }
  return conversation;
}

/**
 * Triage of a conversation in a care-team inbox, from metadata only (triage.ts). While the patient
 * wrote last, it is the triage of the patient's waiting run: its urgent flag, the last kind, and how
 * long since the first unanswered message. Once the care team answered, nothing is waiting on it.
 */
export function conversationTriage(
  conversation: ConversationDocument,
  now: Date,
  hoursToNextAppointment: number | null,
): TriageResult {
  const awaitingCareTeam = conversation.lastSenderRole === 'patient' && conversation.waitingSince !== null;
  if (!awaitingCareTeam) {
    return triagePriority({
      senderRole: 'provider',
      urgentFlag: false,
      hoursSinceLastReply: 0,
      hoursToNextAppointment,
      kind: 'text',
    });
  }
  return triagePriority({
    senderRole: 'patient',
    urgentFlag: conversation.waitingUrgent,
    hoursSinceLastReply: (now.getTime() - Date.parse(conversation.waitingSince as string)) / HOUR_MS,
    hoursToNextAppointment,
    kind: conversation.lastKind ?? 'text',
  });
}

/**
 * Hours until the patient's next scheduled consultation with someone of the conversation's care team
 * (the `consultations` read model), or null when none is booked. Memoised per patient in `cache`.
 */
async function hoursToNextAppointment(
  readModels: ReadModelStore,
  conversation: ConversationDocument,
  now: Date,
  cache: Map<string, ConsultationDocument[]> = new Map(),
): Promise<number | null> {
  let scheduled = cache.get(conversation.patient);
  if (!scheduled) {
    scheduled = await findAll<ConsultationDocument>(
      readModels,
      'consultations',
      { where: { patient: conversation.patient, status: 'scheduled' } },
      MAX_TRIAGED_INBOX,
    );
    cache.set(conversation.patient, scheduled);
  }
  const at = now.getTime() / 1000;
  const next = scheduled
    .filter((c) => conversation.providers.includes(c.provider) && c.startsAt >= at)
    .reduce<number | null>(
      (soonest, c) => (soonest === null || c.startsAt < soonest ? c.startsAt : soonest),
      null,
    );
  return next === null ? null : (next - at) / 3600;
}

function conversationView(
  conversation: ConversationDocument,
  member: ConversationMemberDocument,
  triage: TriageResult | null,
): ConversationView {
  return {
    id: conversation.id,
    patient: conversation.patient,
    providers: conversation.providers,
    formerProviders: conversation.formerProviders,
    startedBy: conversation.startedBy,
    startedAt: conversation.startedAt,
    lastMessageAt: conversation.lastMessageAt,
    lastActivityAt: conversation.lastActivityAt,
    messageCount: conversation.messageCount,
    role: member.role,
    active: member.active,
    hidden: member.hidden,
    unread: member.unread,
    awaitingAcknowledgment: member.awaitingAcknowledgment,
    triage: triage ? { priority: triage.priority, score: triage.score, reasons: triage.reasons } : null,
  };
}

function messageView(message: MessageDocument, reader: string): MessageView {
  return {
    conversationId: message.conversationId,
    messageId: message.messageId,
    position: message.position,
    sender: message.sender,
    senderRole: message.senderRole,
    kind: message.kind,
    urgent: message.urgent,
    requiresAcknowledgment: message.requiresAcknowledgment,
    ciphertext: message.ciphertext,
    iv: message.iv,
    wrappedKey: message.wrappedKeys[reader] ?? '',
    attachment: message.attachment,
    sentAt: message.sentAt,
    acknowledgedBy: message.acknowledgedBy,
    readBy: message.readBy,
  };
}

/** The message as `reader` receives it, or null when it was not sent to them. */
export async function messageFor(
  readModels: ReadModelStore,
  conversationId: string,
  messageId: string,
  reader: string,
): Promise<MessageView | null> {
  const message = await readModels.get<MessageDocument>(
    'messages',
    messageDocumentId(conversationId, messageId),
  );
  return message && message.recipients.includes(reader) ? messageView(message, reader) : null;
}

// ------------------------------------------------------------------------------------------- keys

export class GetMessagingKeyQuery extends Query<MessagingKeyView> {
  constructor(readonly account: string) {
    super();
  }
}

@QueryHandler(GetMessagingKeyQuery)
export class GetMessagingKeyHandler implements IQueryHandler<GetMessagingKeyQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute({ account }: GetMessagingKeyQuery): Promise<MessagingKeyView> {
    const key = await this.readModels.get<MessagingKeyDocument>('messaging_keys', account);
    if (!key) throw notFound('messaging_key_not_found', `${account} has registered no messaging key`);
    return {
      account: key.account,
      publicKey: key.publicKey,
      signature: key.signature,
      registeredAt: key.registeredAt,
    };
  }
}

// ------------------------------------------------------------------------------------ conversations

export class GetConversationQuery extends Query<ConversationView> {
  constructor(
    readonly conversationId: string,
    readonly actor: string,
    readonly now: Date,
  ) {
    super();
  }
}

@QueryHandler(GetConversationQuery)
export class GetConversationHandler implements IQueryHandler<GetConversationQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute({ conversationId, actor, now }: GetConversationQuery): Promise<ConversationView> {
    const conversation = await visibleConversation(this.readModels, conversationId, actor);
    const member = await this.readModels.get<ConversationMemberDocument>(
      'conversation_members',
      `${conversationId}|${actor}`,
    );
    if (!member) throw notFound('conversation_not_found', `no conversation ${conversationId} of yours`);
    const triaged = member.role === 'provider' && member.active;
    const triage = triaged
      ? conversationTriage(
          conversation,
          now,
          await hoursToNextAppointment(this.readModels, conversation, now),
        )
      : null;
    return conversationView(conversation, member, triage);
  }
}

export class ListConversationsQuery extends Query<Page<ConversationView>> {
  constructor(
    readonly actor: string,
    /** Providers' inboxes are ordered by triage; everyone else's by last activity. */
    readonly triaged: boolean,
    readonly includeHidden: boolean,
    readonly now: Date,
    readonly cursor: string | undefined,
    readonly limit: number | undefined,
  ) {
    super();
  }
}

/** Where a triaged inbox entry sorts: score desc, waiting longest first, latest activity, id. */
type TriageSortKey = [score: number, waitingSince: string | null, lastActivityAt: string, id: string];

function compareTriage(a: TriageSortKey, b: TriageSortKey): number {
  if (a[0] !== b[0]) return b[0] - a[0];
  if (a[1] !== b[1]) {
    if (a[1] === null) return 1;
    if (b[1] === null) return -1;
    return a[1] < b[1] ? -1 : 1;
  }
  if (a[2] !== b[2]) return a[2] < b[2] ? 1 : -1;
  return a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0;
}

const encodeTriageCursor = (key: TriageSortKey) =>
  Buffer.from(JSON.stringify({ triage: key }), 'utf8').toString('base64url');

function decodeTriageCursor(cursor: string): TriageSortKey {
  let key: unknown;
  try {
    key = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { triage?: unknown }).triage;
  } catch {
    key = undefined;
  }
  const valid =
    Array.isArray(key) &&
    key.length === 4 &&
    Number.isFinite(key[0]) &&
    (key[1] === null || typeof key[1] === 'string') &&
    typeof key[2] === 'string' &&
    typeof key[3] === 'string';
  if (!valid)
    throw new InvalidQueryError('cursor is not one this inbox issued; start again without a cursor');
  return key as TriageSortKey;
}

@QueryHandler(ListConversationsQuery)
export class ListConversationsHandler implements IQueryHandler<ListConversationsQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  async execute(query: ListConversationsQuery): Promise<Page<ConversationView>> {
    const where = { participant: query.actor, ...(query.includeHidden ? {} : { hidden: false }) };
    if (!query.triaged) {
      const page = await this.readModels.find<ConversationMemberDocument>('conversation_members', {
        where,
        sort: { field: 'lastActivityAt', direction: 'desc' },
        cursor: query.cursor,
        limit: query.limit,
      });
      const items: ConversationView[] = [];
      for (const member of page.items) {
        const conversation = await this.readModels.get<ConversationDocument>(
          'conversations',
          member.conversationId,
        );
        if (conversation) items.push(conversationView(conversation, member, null));
      }
      return { items, nextCursor: page.nextCursor };
    }

    // Triage depends on the time of asking, so it is computed now over the whole inbox, then paged
    // with a cursor on the sort key (a later page continues after the last entry shown).
    const after = query.cursor === undefined ? null : decodeTriageCursor(query.cursor);
    const members = await findAll<ConversationMemberDocument>(
      this.readModels,
      'conversation_members',
      { where },
      MAX_TRIAGED_INBOX,
    );
    const entries: { key: TriageSortKey; view: ConversationView }[] = [];
    const appointments = new Map<string, ConsultationDocument[]>();
    for (const member of members) {
      const conversation = await this.readModels.get<ConversationDocument>(
        'conversations',
        member.conversationId,
      );
      if (!conversation) continue;
      const triaged = member.role === 'provider' && member.active;
      const triage = triaged
        ? conversationTriage(
            conversation,
            query.now,
            await hoursToNextAppointment(this.readModels, conversation, query.now, appointments),
          )
        : null;
      const key: TriageSortKey = [
        triage?.score ?? -1, // entries nothing is triaged for (my own conversations as a patient, former) last
        triage?.priority === undefined || conversation.lastSenderRole !== 'patient'
          ? null
          : conversation.waitingSince,
        conversation.lastActivityAt,
        conversation.id,
      ];
      entries.push({ key, view: conversationView(conversation, member, triage) });
    }
    entries.sort((a, b) => compareTriage(a.key, b.key));
    const remaining = after ? entries.filter((e) => compareTriage(e.key, after) > 0) : entries;
    const limit = query.limit ?? DEFAULT_PAGE;
    const page = remaining.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((e) => e.view),
      nextCursor: remaining.length > limit && last ? encodeTriageCursor(last.key) : null,
    };
  }
}

export class ListMessagesQuery extends Query<Page<MessageView>> {
  constructor(
    readonly conversationId: string,
    readonly actor: string,
    readonly order: 'asc' | 'desc',
    readonly cursor: string | undefined,
    readonly limit: number | undefined,
  ) {
    super();
  }
}

@QueryHandler(ListMessagesQuery)
export class ListMessagesHandler implements IQueryHandler<ListMessagesQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {}

  /** The messages sent to the caller in this conversation (before they joined or after they left: none). */
  async execute(query: ListMessagesQuery): Promise<Page<MessageView>> {
    await visibleConversation(this.readModels, query.conversationId, query.actor);
    const page = await this.readModels.find<MessageFeedDocument>('message_feed', {
      where: { recipient: query.actor, conversationId: query.conversationId, item: 'message' },
      sort: { field: 'position', direction: query.order },
      cursor: query.cursor,
      limit: query.limit,
    });
    const items: MessageView[] = [];
    for (const entry of page.items) {
      const message = await messageFor(this.readModels, entry.conversationId, entry.messageId, query.actor);
      if (message) items.push(message);
    }
    return { items, nextCursor: page.nextCursor };
  }
}

export const MESSAGING_QUERY_HANDLERS = [
  GetMessagingKeyHandler,
  GetConversationHandler,
  ListConversationsHandler,
  ListMessagesHandler,
];
