import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';

import { DateTimePipe } from '../shared/time-left';
import type { ThreadMessage } from './conversation-thread';
import { kindLabel } from './medical-content';

/**
 * One message of a conversation, decrypted: who sent it and when, its text (or its structured content
 * as labelled lines), the urgent flag, read receipts on my own messages, and acknowledgments (with an
 * Acknowledge button for a recipient asked to give one).
 */
@Component({
  selector: 'app-message-bubble',
  imports: [DateTimePipe],
  host: {
    class: 'bubble',
    '[class.bubble--mine]': 'mine()',
    '[class.bubble--urgent]': 'message().urgent',
    'data-testid': 'message-bubble',
    '[attr.data-message-id]': 'message().messageId',
    '[attr.data-kind]': 'message().kind',
  },
  template: `
    @let m = message();
    <p class="bubble__meta">
      <span class="bubble__sender">{{ senderName() }}</span>
      <time [attr.datetime]="m.sentAt">{{ m.sentAt | dateTime }}</time>
      @if (m.urgent) {
        <span class="tag tag--emergency" data-testid="message-urgent-tag">Urgent</span>
      }
      @if (m.kind !== 'text') {
        <span class="tag" data-testid="message-kind-tag">{{ kind() }}</span>
      }
    </p>

    @switch (m.content.status) {
      @case ('ok') {
        @if (m.content.structured; as lines) {
          <dl class="bubble__facts" data-testid="message-structured">
            @for (line of lines; track $index) {
              <dt>{{ line.label }}</dt>
              <dd [class.bubble__multiline]="line.multiline">{{ line.value }}</dd>
            }
          </dl>
        } @else {
          <p class="bubble__text" data-testid="message-text">{{ m.content.text }}</p>
        }
      }
      @case ('unreadable') {
        <p class="bubble__text bubble__text--muted" data-testid="message-unreadable">
          This message cannot be shown: it was not encrypted for your current key, or it was changed on the
          way.
        </p>
      }
    }

    @if (m.requiresAcknowledgment) {
      @if (acknowledgers(); as names) {
        <p class="bubble__receipt" data-testid="ack-status">Acknowledged by {{ names }}</p>
      } @else if (mine()) {
        <p class="bubble__receipt" data-testid="ack-status">Waiting for acknowledgment</p>
      }
      @if (canAcknowledge()) {
        <button
          type="button"
          class="button--primary"
          data-testid="acknowledge-button"
          (click)="acknowledge.emit()"
        >
          Acknowledge
        </button>
      }
    }
    @if (mine()) {
      <p class="bubble__receipt" data-testid="read-receipt">
        {{ readers() ? 'Read by ' + readers() : 'Sent' }}
      </p>
    }
  `,
  styles: `
    :host {
      display: block;
      max-width: min(40rem, 90%);
      margin: 0.5rem 0;
      padding: 0.5rem 0.75rem;
      border-radius: var(--radius);
      background: var(--color-surface);
    }
    :host(.bubble--mine) {
      margin-left: auto;
      background: var(--color-info-bg);
    }
    :host(.bubble--urgent) {
      border-left: 4px solid var(--color-danger);
    }
    .bubble__meta,
    .bubble__receipt {
      margin: 0;
      font-size: 0.875rem;
      color: var(--color-muted);
    }
    .bubble__meta .tag {
      margin-left: 0.375rem;
    }
    .bubble__sender {
      font-weight: 600;
      margin-right: 0.5rem;
    }
    .bubble__text,
    .bubble__multiline {
      margin: 0.25rem 0;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .bubble__text--muted {
      font-style: italic;
      color: var(--color-muted);
    }
    .bubble__facts {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 0.125rem 0.75rem;
      margin: 0.25rem 0;
    }
    .bubble__facts dt {
      font-weight: 600;
    }
    .bubble__facts dd {
      margin: 0;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MessageBubble {
  readonly message = input.required<ThreadMessage>();
  /** Lower-case address of the signed-in account. */
  readonly me = input.required<string>();
  /** Names a participant ("You", a provider's name, "Patient 0x…"). */
  readonly nameOf = input.required<(address: string) => string>();
  readonly acknowledge = output<void>();

  protected readonly mine = computed(() => this.message().sender === this.me());
  protected readonly senderName = computed(() => this.nameOf()(this.message().sender));
  protected readonly kind = computed(() => kindLabel(this.message().kind));
  protected readonly acknowledgers = computed(() => this.names(this.message().acknowledgedBy));
  protected readonly readers = computed(() => this.names(this.message().readBy));
  protected readonly canAcknowledge = computed(() => {
    const m = this.message();
    const me = this.me();
    return (
      m.requiresAcknowledgment && !this.mine() && !m.acknowledgedBy.some((r) => r.by.toLowerCase() === me)
    );
  });

  /** The people (other than the sender) in the receipts, named; empty when none. */
  private names(receipts: readonly { by: string }[]): string {
    const sender = this.message().sender;
    return receipts
      .map((r) => r.by.toLowerCase())
      .filter((by) => by !== sender)
      .map((by) => this.nameOf()(by))
      .join(', ');
  }
}
