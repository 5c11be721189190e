import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  type ElementRef,
  Injector,
  afterNextRender,
  computed,
  inject,
  viewChild,
} from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';

import { ProviderDirectory } from '../core/provider-directory';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { ConversationThread } from './conversation-thread';
import { MessageBubble } from './message-bubble';
import { MessageComposer } from './message-composer';
import { counterpartNames } from './participant-name';

/** Said when the API refuses a send for want of the patient's `messaging` grant. */
export const REFUSAL_FOR_PROVIDER =
  "You can no longer send messages here because the patient's permission for messaging ended. The history stays readable.";
export const REFUSAL_FOR_PATIENT =
  'You can no longer send messages here because your permission for messaging ended. The history stays readable. ' +
  'To write again, give this provider permission for messaging on your overview page.';

/**
 * One conversation: its messages decrypted in this browser (older ones on demand), live updates,
 * acknowledgments and read receipts, hiding, and the composer (or why one cannot write here).
 */
@Component({
  selector: 'app-conversation-page',
  imports: [RouterLink, LoadingState, ErrorState, EmptyState, MessageBubble, MessageComposer],
  providers: [ConversationThread],
  template: `
    <p><a routerLink=".." data-testid="back-to-conversations">← All conversations</a></p>
    @if (thread.loading()) {
      <app-loading-state label="Opening the conversation…" testId="conversation-loading" />
    } @else if (thread.error()) {
      <app-error-state
        heading="This conversation could not be opened"
        [message]="thread.error()"
        testId="conversation-error"
        (retry)="reload()"
      />
    } @else if (thread.conversation(); as c) {
      <header class="conversation__header">
        <h1 tabindex="-1" #heading data-testid="conversation-title">{{ title() }}</h1>
        <div class="actions">
          @if (c.hidden) {
            <button type="button" data-testid="unhide-conversation" (click)="thread.setHidden(false)">
              Show in my inbox
            </button>
          } @else {
            <button type="button" data-testid="hide-conversation" (click)="thread.setHidden(true)">
              Hide from my inbox
            </button>
          }
        </div>
      </header>
      @if (c.hidden) {
        <p class="notice notice--info" data-testid="hidden-notice">
          Hidden from your inbox. Nothing was deleted: it is kept, and new messages still arrive here.
        </p>
      }
      @if (thread.actionError()) {
        <p class="form-error" role="alert" data-testid="action-error">{{ thread.actionError() }}</p>
      }

      @if (thread.olderCursor()) {
        <div class="actions">
          <button
            type="button"
            data-testid="older-messages"
            [disabled]="thread.loadingOlder()"
            (click)="thread.loadOlder()"
          >
            {{ thread.loadingOlder() ? 'Loading older messages…' : 'Older messages' }}
          </button>
        </div>
      }
      @if (thread.olderError()) {
        <p class="form-error" role="alert" data-testid="older-error">{{ thread.olderError() }}</p>
      }

      <section aria-label="Messages" aria-live="polite" aria-relevant="additions" data-testid="message-list">
        @for (message of thread.messages(); track message.messageId) {
          <app-message-bubble
            [message]="message"
            [me]="thread.me()"
            [nameOf]="nameOf"
            (acknowledge)="thread.acknowledge(message.messageId)"
          />
        } @empty {
          <app-empty-state heading="No messages yet" testId="messages-empty">
            Write the first one below. It is encrypted in your browser before it leaves it.
          </app-empty-state>
        }
      </section>

      @if (thread.refused()) {
        <p class="notice notice--warning" role="alert" data-testid="send-refusal">{{ refusal() }}</p>
      } @else if (thread.canWrite()) {
        <app-message-composer [role]="c.role" />
      } @else {
        <p class="notice notice--info" data-testid="not-in-care-team">
          You are no longer in this conversation's care team. The history stays readable.
        </p>
      }
    }
  `,
  styles: `
    .conversation__header {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      justify-content: space-between;
      gap: 0.5rem;
    }
    .conversation__header .actions {
      margin-top: 0;
    }
    [data-testid='message-list'] {
      display: flex;
      flex-direction: column;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConversationPage {
  protected readonly thread = inject(ConversationThread);
  private readonly directory = inject(ProviderDirectory);
  private readonly route = inject(ActivatedRoute);
  private readonly injector = inject(Injector);
  private readonly heading = viewChild<ElementRef<HTMLElement>>('heading');

  protected readonly nameOf = (address: string): string => this.thread.nameOf(address);
  protected readonly title = computed(() => {
    const c = this.thread.conversation();
    return c ? `Conversation with ${counterpartNames(c, this.thread.me(), this.directory)}` : 'Conversation';
  });
  protected readonly refusal = computed(() =>
    this.thread.conversation()?.role === 'patient' ? REFUSAL_FOR_PATIENT : REFUSAL_FOR_PROVIDER,
  );

  constructor() {
    const subscription = this.route.paramMap.subscribe((params) => {
      const id = params.get('conversationId');
      if (id) void this.thread.open(id).then(() => this.focusHeading());
    });
    inject(DestroyRef).onDestroy(() => subscription.unsubscribe());
  }

  private focusHeading(): void {
    afterNextRender(() => this.heading()?.nativeElement.focus(), { injector: this.injector });
  }

  protected reload(): void {
    const id = this.route.snapshot.paramMap.get('conversationId');
    if (id) void this.thread.open(id);
  }
}
