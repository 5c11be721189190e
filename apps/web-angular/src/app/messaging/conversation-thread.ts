import { DestroyRef, Injectable, computed, effect, inject, signal, untracked } from '@angular/core';
import type { MessageKind } from '@custos/domain/messaging';

import { ApiError, toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { WalletError } from '../core/wallet';
import { LiveMessages, type LiveItem } from './live-messages';
import { type StructuredLine, readStructured } from './medical-content';
import { MessageTooLongError, decryptMessage, encryptMessage } from './message-envelope';
import {
  type ConversationView,
  MessagingApi,
  type MessageView,
  type Receipt,
  type SendMessageBody,
} from './messaging-api';
import { MessagingKeyError, MessagingKeys } from './messaging-keys';
import { participantName } from './participant-name';

/** What a message says, once decrypted here. */
export type MessageContent =
  | { readonly status: 'ok'; readonly text: string; readonly structured: readonly StructuredLine[] | null }
  /** Changed, moved, or encrypted for another key: it cannot be shown. */
  | { readonly status: 'unreadable' };

/** One message of the open conversation, decrypted. Addresses are lower-case. */
export interface ThreadMessage {
  readonly messageId: string;
  readonly position: number;
  readonly sender: string;
  readonly senderRole: 'patient' | 'provider';
  readonly kind: MessageKind;
  readonly urgent: boolean;
  readonly requiresAcknowledgment: boolean;
  readonly sentAt: string;
  readonly acknowledgedBy: readonly Receipt[];
  readonly readBy: readonly Receipt[];
  readonly content: MessageContent;
}

/** What the composer sends: `content` is the text, or a structured kind's JSON. */
export interface Draft {
  readonly kind: MessageKind;
  readonly content: string;
  readonly urgent: boolean;
  readonly requiresAcknowledgment: boolean;
}

export type SendOutcome = 'sent' | 'refused' | 'failed';

/** The API's code when the patient's `messaging` grant is missing (a send, a start). */
export const CONSENT_REQUIRED = 'messaging_consent_required';

const PAGE_SIZE = 30;

/**
 * The open conversation: its messages decrypted in the browser, older pages on demand, live messages
 * and receipts merged in (by `messageId`, so a message delivered twice shows once), read receipts for
 * what the signed-in account sees, acknowledgments, hiding, and sending (encrypted for every current
 * participant, the sender included, after checking each one's key).
 *
 * Provided by the conversation page (one per page).
 */
@Injectable()
export class ConversationThread {
  private readonly api = inject(MessagingApi);
  private readonly keys = inject(MessagingKeys);
  private readonly live = inject(LiveMessages);
  private readonly session = inject(Session);
  private readonly directory = inject(ProviderDirectory);

  readonly conversation = signal<ConversationView | null>(null);
  /** Oldest first. */
  readonly messages = signal<readonly ThreadMessage[]>([]);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);
  /** Where the older messages continue, or null when the oldest is shown. */
  readonly olderCursor = signal<string | null>(null);
  readonly loadingOlder = signal(false);
  readonly olderError = signal<string | null>(null);
  readonly sending = signal(false);
  readonly sendError = signal<string | null>(null);
  /** The API refused to send for want of the patient's `messaging` grant. */
  readonly refused = signal(false);
  /** A failed acknowledgment or hide, with its reason. */
  readonly actionError = signal<string | null>(null);
  readonly me = computed(() => this.session.address()?.toLowerCase() ?? '');
  /** The signed-in account is in the current care team (or is the patient): it may write. */
  readonly canWrite = computed(() => {
    const c = this.conversation();
    return c !== null && c.active && [c.patient, ...c.providers].includes(this.me());
  });

  private id: string | null = null;
  /** Bumped by each `open`: answers for a conversation no longer shown are dropped. */
  private generation = 0;
  /** The envelope of a send that failed on the way (network, server): sent again as is on retry. */
  private unsent: { readonly draft: string; readonly body: SendMessageBody } | null = null;
  private readonly readSent = new Set<string>();

  constructor() {
    const subscription = this.live.items.subscribe((item) => void this.receive(item));
    inject(DestroyRef).onDestroy(() => subscription.unsubscribe());
    let reconnects = this.live.reconnects();
    effect(() => {
      const now = this.live.reconnects();
      if (now === reconnects) return;
      reconnects = now;
      untracked(() => void this.refresh());
    });
  }

  /** How `address` is named here ("You", a provider's name, "Patient 0x…"). */
  nameOf(address: string): string {
    return participantName(address, this.me(), this.conversation(), this.directory);
  }

  /** Loads the conversation and its newest messages. */
  async open(id: string): Promise<void> {
    const generation = ++this.generation;
    this.id = id;
    this.conversation.set(null);
    this.messages.set([]);
    this.olderCursor.set(null);
    this.error.set(null);
    this.olderError.set(null);
    this.sendError.set(null);
    this.actionError.set(null);
    this.refused.set(false);
    this.unsent = null;
    this.loading.set(true);
    try {
      const [conversation, page] = await Promise.all([
        this.api.conversation(id),
        this.api.messages(id, undefined, PAGE_SIZE),
      ]);
      const decrypted = await Promise.all(page.items.map((m) => this.decrypt(m)));
      if (generation !== this.generation) return;
      this.conversation.set(conversation);
      this.olderCursor.set(page.nextCursor);
      this.merge(decrypted);
      for (const m of page.items) this.live.observe(m.position);
      this.markRead();
    } catch (error) {
      if (generation === this.generation) this.error.set(describe(error));
    } finally {
      if (generation === this.generation) this.loading.set(false);
    }
  }

  /** The next page of older messages. */
  async loadOlder(): Promise<void> {
    const id = this.id;
    const cursor = this.olderCursor();
    if (!id || !cursor || this.loadingOlder()) return;
    const generation = this.generation;
    this.loadingOlder.set(true);
    this.olderError.set(null);
    try {
      const page = await this.api.messages(id, cursor, PAGE_SIZE);
      const decrypted = await Promise.all(page.items.map((m) => this.decrypt(m)));
      if (generation !== this.generation) return;
      this.olderCursor.set(page.nextCursor);
      this.merge(decrypted);
      this.markRead();
    } catch (error) {
      if (generation === this.generation) this.olderError.set(describe(error));
    } finally {
      if (generation === this.generation) this.loadingOlder.set(false);
    }
  }

  /**
   * Encrypts the draft for every current participant (their keys checked first) and sends it.
   * `refused`: the patient's permission for messaging is missing (`refused()` is set); `failed`: the
   * reason is in `sendError()` (sending the same draft again resends the same envelope).
   */
  async send(draft: Draft): Promise<SendOutcome> {
    const conversation = this.conversation();
    const own = this.keys.keyPair();
    if (!conversation || this.sending()) return 'failed';
    this.sendError.set(null);
    if (!own) {
      this.sendError.set('Unlock your messages first.');
      return 'failed';
    }
    const participants = [conversation.patient, ...conversation.providers].map((a) => a.toLowerCase());
    if (!participants.includes(own.account)) {
      this.sendError.set('You are no longer in this conversation, so you cannot write here.');
      return 'failed';
    }
    this.sending.set(true);
    const fingerprint = JSON.stringify([conversation.id, participants, draft]);
    try {
      let body = this.unsent?.draft === fingerprint ? this.unsent.body : null;
      if (!body) {
        const recipients = await this.keys.recipientKeys(participants, (a) => this.nameOf(a));
        const messageId = crypto.randomUUID();
        const sealed = await encryptMessage(conversation.id, messageId, draft.content, recipients);
        body = {
          messageId,
          kind: draft.kind,
          requiresAcknowledgment: draft.requiresAcknowledgment,
          urgent: draft.urgent,
          ciphertext: sealed.ciphertext,
          iv: sealed.iv,
          wrappedKeys: sealed.wrappedKeys,
        };
      }
      this.unsent = { draft: fingerprint, body };
      const accepted = await this.api.send(conversation.id, body);
      this.unsent = null;
      if (this.conversation()?.id !== conversation.id) return 'sent';
      this.merge([
        {
          messageId: body.messageId,
          position: accepted.position,
          sender: own.account,
          senderRole: conversation.role,
          kind: draft.kind,
          urgent: draft.urgent,
          requiresAcknowledgment: draft.requiresAcknowledgment,
          sentAt: accepted.sentAt,
          acknowledgedBy: [],
          readBy: [],
          content: contentOf(draft.kind, draft.content),
        },
      ]);
      return 'sent';
    } catch (error) {
      if (error instanceof ApiError && error.status === 403 && error.code === CONSENT_REQUIRED) {
        this.unsent = null;
        this.refused.set(true);
        return 'refused';
      }
      // Refused for a reason (4xx) or never sent (keys, length): the next attempt makes a new envelope.
      if (!(error instanceof ApiError) || (error.status >= 400 && error.status < 500)) this.unsent = null;
      this.sendError.set(describe(error));
      return 'failed';
    } finally {
      this.sending.set(false);
    }
  }

  /** Acknowledges a message that asked for it. */
  async acknowledge(messageId: string): Promise<void> {
    const id = this.id;
    if (!id) return;
    this.actionError.set(null);
    try {
      await this.api.acknowledge(id, messageId);
      this.addReceipt(messageId, 'acknowledgedBy', { by: this.me(), at: new Date().toISOString() });
    } catch (error) {
      this.actionError.set(describe(error));
    }
  }

  /** Hides the conversation from my inbox, or shows it again (nothing is deleted). */
  async setHidden(hidden: boolean): Promise<boolean> {
    const conversation = this.conversation();
    if (!conversation) return false;
    this.actionError.set(null);
    try {
      await this.api.setHidden(conversation.id, hidden);
      if (this.conversation()?.id === conversation.id) this.conversation.set({ ...conversation, hidden });
      return true;
    } catch (error) {
      this.actionError.set(describe(error));
      return false;
    }
  }

  /** After a reconnection: the conversation and the newest page again (what was missed shows). */
  private async refresh(): Promise<void> {
    const id = this.id;
    if (!id || this.loading()) return;
    const generation = this.generation;
    try {
      const [conversation, page] = await Promise.all([
        this.api.conversation(id),
        this.api.messages(id, undefined, PAGE_SIZE),
      ]);
      const known = new Map(this.messages().map((m) => [m.messageId, m]));
      const fresh = await Promise.all(
        page.items.map((m) => {
          const had = known.get(m.messageId);
          return had ? withReceipts(had, m.acknowledgedBy, m.readBy) : this.decrypt(m);
        }),
      );
      if (generation !== this.generation) return;
      this.conversation.set(conversation);
      this.merge(fresh);
      this.markRead();
    } catch {
      // The live items keep coming; the next reconnection refreshes again.
    }
  }

  private async receive(item: LiveItem): Promise<void> {
    if (!this.id || item.conversationId !== this.id) return;
    if (item.type === 'message') {
      if (this.messages().some((m) => m.messageId === item.messageId)) return; // already shown
      const generation = this.generation;
      const message = await this.decrypt(item);
      if (generation !== this.generation) return;
      this.merge([message]);
      this.markRead();
      return;
    }
    this.addReceipt(item.messageId, item.type === 'read' ? 'readBy' : 'acknowledgedBy', {
      by: item.by,
      at: item.at,
    });
  }

  private async decrypt(view: MessageView): Promise<ThreadMessage> {
    const own = this.keys.keyPair();
    let content: MessageContent = { status: 'unreadable' };
    if (own && view.wrappedKey) {
      try {
        content = contentOf(view.kind, await decryptMessage(view, own.keys));
      } catch {
        content = { status: 'unreadable' };
      }
    }
    return {
      messageId: view.messageId,
      position: view.position,
      sender: view.sender.toLowerCase(),
      senderRole: view.senderRole,
      kind: view.kind,
      urgent: view.urgent,
      requiresAcknowledgment: view.requiresAcknowledgment,
      sentAt: view.sentAt,
      acknowledgedBy: view.acknowledgedBy,
      readBy: view.readBy,
      content,
    };
  }

  /** Adds or updates messages by id (receipts are united), oldest first. */
  private merge(incoming: readonly ThreadMessage[]): void {
    if (incoming.length === 0) return;
    const byId = new Map(this.messages().map((m) => [m.messageId, m]));
    for (const message of incoming) {
      const known = byId.get(message.messageId);
      byId.set(
        message.messageId,
        known ? withReceipts(known, message.acknowledgedBy, message.readBy) : message,
      );
    }
    this.messages.set([...byId.values()].sort((a, b) => a.position - b.position));
  }

  private addReceipt(messageId: string, field: 'acknowledgedBy' | 'readBy', receipt: Receipt): void {
    const message = this.messages().find((m) => m.messageId === messageId);
    if (!message) return;
    const receipts = field === 'readBy' ? [receipt] : [];
    const acknowledgments = field === 'acknowledgedBy' ? [receipt] : [];
    this.merge([{ ...withReceipts(message, acknowledgments, receipts) }]);
  }

  /** Read receipts for what others sent that I have not read yet (once per message). */
  private markRead(): void {
    const id = this.id;
    const me = this.me();
    if (!id || !me) return;
    for (const message of this.messages()) {
      if (message.sender === me || this.readSent.has(message.messageId)) continue;
      if (message.readBy.some((r) => r.by.toLowerCase() === me)) continue;
      this.readSent.add(message.messageId);
      this.api.markRead(id, message.messageId).then(
        () => this.addReceipt(message.messageId, 'readBy', { by: me, at: new Date().toISOString() }),
        () => this.readSent.delete(message.messageId),
      );
    }
  }
}

/** The message with `acknowledgedBy` and `readBy` united with the given receipts (one per person). */
function withReceipts(
  message: ThreadMessage,
  acknowledgedBy: readonly Receipt[],
  readBy: readonly Receipt[],
): ThreadMessage {
  return {
    ...message,
    acknowledgedBy: unite(message.acknowledgedBy, acknowledgedBy),
    readBy: unite(message.readBy, readBy),
  };
}

function unite(known: readonly Receipt[], more: readonly Receipt[]): readonly Receipt[] {
  const added = more.filter((r) => !known.some((k) => k.by.toLowerCase() === r.by.toLowerCase()));
  return added.length === 0 ? known : [...known, ...added];
}

export function contentOf(kind: MessageKind, text: string): MessageContent {
  return { status: 'ok', text, structured: readStructured(kind, text) };
}

function describe(error: unknown): string {
  if (error instanceof MessagingKeyError || error instanceof MessageTooLongError) return error.message;
  if (error instanceof WalletError) return error.message;
  return toApiError(error).message;
}
