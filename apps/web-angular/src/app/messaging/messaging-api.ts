import { Injectable, inject } from '@angular/core';
import type { MessageKind } from '@custos/domain/messaging';

import { ApiClient, type Page } from '../core/api-client';

/** `GET /messaging/keys/:address`: an account's X25519 key and the wallet signature binding it. */
export interface MessagingKeyView {
  /** Lower-case address. */
  readonly account: string;
  /** base64url of the 32-byte X25519 public key. */
  readonly publicKey: string;
  /** EIP-191 signature over `messagingKeyStatement(account, publicKey)`: checked here before wrapping. */
  readonly signature: string;
  readonly registeredAt: string;
}

export type TriagePriority = 'urgent' | 'high' | 'normal' | 'low';

/** Metadata-only triage of a conversation in a provider's inbox. */
export interface TriageView {
  readonly priority: TriagePriority;
  readonly score: number;
  readonly reasons: readonly string[];
}

/** `GET /conversations` item and `GET /conversations/:id`. Addresses are lower-case. */
export interface ConversationView {
  readonly id: string;
  readonly patient: string;
  readonly providers: readonly string[];
  readonly formerProviders: readonly string[];
  readonly startedBy: string;
  readonly startedAt: string;
  readonly lastMessageAt: string | null;
  readonly lastActivityAt: string;
  readonly messageCount: number;
  /** The caller's place in it. */
  readonly role: 'patient' | 'provider';
  /** False for a provider who left or was removed (the history stays readable). */
  readonly active: boolean;
  readonly hidden: boolean;
  readonly unread: number;
  readonly awaitingAcknowledgment: number;
  /** Providers' inboxes only. */
  readonly triage: TriageView | null;
}

export interface Receipt {
  readonly by: string;
  readonly at: string;
}

/** `GET /conversations/:id/messages` item: one envelope as sent to the caller. */
export interface MessageView {
  readonly conversationId: string;
  readonly messageId: string;
  /** Global position: what a live `resume` continues after. */
  readonly position: number;
  readonly sender: string;
  readonly senderRole: 'patient' | 'provider';
  readonly kind: MessageKind;
  readonly urgent: boolean;
  readonly requiresAcknowledgment: boolean;
  readonly ciphertext: string;
  readonly iv: string;
  /** The content key wrapped for the caller only. */
  readonly wrappedKey: string;
  readonly attachment: { readonly blobId: string; readonly size: number } | null;
  readonly sentAt: string;
  readonly acknowledgedBy: readonly Receipt[];
  readonly readBy: readonly Receipt[];
}

/** `POST /conversations/:id/messages`: one ciphertext envelope. */
export interface SendMessageBody {
  /** Client-made UUID: resending the same envelope with it adds nothing. */
  readonly messageId: string;
  readonly kind: MessageKind;
  readonly requiresAcknowledgment: boolean;
  readonly urgent: boolean;
  readonly ciphertext: string;
  readonly iv: string;
  /** Lower-case address of every participant (sender included) → the content key wrapped for them. */
  readonly wrappedKeys: Readonly<Record<string, string>>;
}

export interface MessageAccepted {
  readonly conversationId: string;
  readonly messageId: string;
  readonly position: number;
  readonly sentAt: string;
}

/** Someone the signed-in account may start a conversation with (an active `messaging` grant). */
export interface MessagingContact {
  /** Lower-case address. */
  readonly address: string;
  /** Unix seconds: when the grant ends. */
  readonly until: number;
}

interface PatientGrant {
  readonly provider: string;
  readonly category: string;
  readonly expiresAt: number;
  readonly status: string;
}

interface ProviderGrant {
  readonly patient: string;
  readonly category: string;
  readonly expiresAt: number;
}

/** The messaging routes of the API, typed (see apps/api/src/messaging). */
@Injectable({ providedIn: 'root' })
export class MessagingApi {
  private readonly api = inject(ApiClient);

  key(address: string): Promise<MessagingKeyView> {
    return this.api.get<MessagingKeyView>(`/messaging/keys/${encodeURIComponent(address)}`);
  }

  registerKey(publicKey: string, signature: string): Promise<MessagingKeyView> {
    return this.api.put<MessagingKeyView>('/messaging/keys/me', { publicKey, signature });
  }

  conversations(options: { hidden?: boolean; cursor?: string; limit?: number } = {}) {
    return this.api.get<Page<ConversationView>>('/conversations', {
      hidden: options.hidden ? 'true' : undefined,
      cursor: options.cursor,
      limit: options.limit,
    });
  }

  conversation(id: string): Promise<ConversationView> {
    return this.api.get<ConversationView>(`/conversations/${encodeURIComponent(id)}`);
  }

  /** Newest first: each page goes further back (`nextCursor`). */
  messages(id: string, cursor?: string, limit = 30): Promise<Page<MessageView>> {
    return this.api.get<Page<MessageView>>(`/conversations/${encodeURIComponent(id)}/messages`, {
      order: 'desc',
      cursor,
      limit,
    });
  }

  start(patient: string, providers: readonly string[]): Promise<{ id: string }> {
    return this.api.post<{ id: string }>('/conversations', { patient, providers });
  }

  send(id: string, body: SendMessageBody): Promise<MessageAccepted> {
    return this.api.post<MessageAccepted>(`/conversations/${encodeURIComponent(id)}/messages`, body);
  }

  acknowledge(id: string, messageId: string): Promise<void> {
    return this.api.post(`${this.messagePath(id, messageId)}/acknowledgment`);
  }

  markRead(id: string, messageId: string): Promise<void> {
    return this.api.post(`${this.messagePath(id, messageId)}/read`);
  }

  setHidden(id: string, hidden: boolean): Promise<void> {
    return this.api.post(`/conversations/${encodeURIComponent(id)}/${hidden ? 'hide' : 'unhide'}`);
  }

  /** The providers I (a patient) gave an active `messaging` grant to. */
  async providersICanMessage(): Promise<MessagingContact[]> {
    const grants = await this.api.get<PatientGrant[]>('/patients/me/consents');
    return contacts(
      grants
        .filter((g) => g.category === 'messaging' && g.status === 'active')
        .map((g) => ({ address: g.provider, until: g.expiresAt })),
    );
  }

  /** The patients whose `messaging` grant to me (a provider) is active now. */
  async patientsICanMessage(): Promise<MessagingContact[]> {
    const grants = await this.api.getAll<ProviderGrant>('/providers/me/patients');
    return contacts(
      grants
        .filter((g) => g.category === 'messaging')
        .map((g) => ({ address: g.patient, until: g.expiresAt })),
    );
  }

  private messagePath(id: string, messageId: string): string {
    return `/conversations/${encodeURIComponent(id)}/messages/${encodeURIComponent(messageId)}`;
  }
}

/** One entry per address (lower-cased), the latest end kept. */
function contacts(list: readonly MessagingContact[]): MessagingContact[] {
  const byAddress = new Map<string, MessagingContact>();
  for (const contact of list) {
    const address = contact.address.toLowerCase();
    const known = byAddress.get(address);
    if (!known || known.until < contact.until) byAddress.set(address, { address, until: contact.until });
  }
  return [...byAddress.values()];
}
