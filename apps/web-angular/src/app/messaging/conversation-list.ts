import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  effect,
  inject,
  signal,
  untracked,
} from '@angular/core';
import { RouterLink } from '@angular/router';

import { toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadMore } from '../shared/load-more';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe } from '../shared/time-left';
import { LiveMessages } from './live-messages';
import { type ConversationView, MessagingApi, type TriagePriority } from './messaging-api';
import { MESSAGING_ROLE } from './messaging-role';
import { NewConversationForm } from './new-conversation-form';
import { counterpartNames } from './participant-name';

const PRIORITY_LABELS: Readonly<Record<TriagePriority, string>> = {
  urgent: 'Urgent',
  high: 'High priority',
  normal: 'Normal',
  low: 'Low priority',
};

/** How long the inbox waits after a live message before reading itself again (ms). */
const REFRESH_DEBOUNCE_MS = 400;

/**
 * The inbox: a patient's conversations by last activity; a provider's by triage priority (from
 * metadata only), with the priority and its reasons shown. Unread and to-acknowledge counts, hidden
 * conversations on request, and the form to start a new one. Reads itself again as messages arrive.
 */
@Component({
  selector: 'app-conversation-list',
  imports: [RouterLink, LoadingState, LoadMore, ErrorState, EmptyState, DateTimePipe, NewConversationForm],
  template: `
    <h1>{{ role === 'provider' ? 'Patient messages' : 'Messages' }}</h1>
    <p class="lede">
      Messages are end-to-end encrypted: they are locked in your browser and only the people in the
      conversation can read them. Custos stores them locked and cannot read them.
    </p>

    <app-new-conversation-form [existing]="conversations()" />

    <section class="section" aria-labelledby="conversations-heading">
      <div class="inbox__head">
        <h2 id="conversations-heading">
          {{ role === 'provider' ? 'Inbox, most pressing first' : 'Your conversations' }}
        </h2>
        <div class="field field--checkbox">
          <input
            id="show-hidden"
            type="checkbox"
            data-testid="show-hidden"
            [checked]="showHidden()"
            (change)="toggleHidden($any($event.target).checked)"
          />
          <label for="show-hidden">Show hidden conversations</label>
        </div>
      </div>

      @if (loading()) {
        <app-loading-state label="Loading your conversations…" testId="conversations-loading" />
      } @else if (error()) {
        <app-error-state
          heading="Your conversations could not be loaded"
          [message]="error()"
          testId="conversations-error"
          (retry)="load()"
        />
      } @else {
        <ul class="card-list" data-testid="conversation-list">
          @for (c of conversations(); track c.id) {
            <li
              class="card inbox__row"
              [class.row--emergency]="c.triage?.priority === 'urgent'"
              data-testid="conversation-row"
              [attr.data-conversation-id]="c.id"
            >
              <h3 class="card__title">
                <a [routerLink]="[c.id]" data-testid="conversation-link">{{ names(c) }}</a>
                @if (c.triage; as triage) {
                  <span
                    class="badge"
                    [class.badge--urgent]="triage.priority === 'urgent'"
                    [class.badge--muted]="triage.priority === 'low' || triage.priority === 'normal'"
                    data-testid="triage-badge"
                    [attr.data-priority]="triage.priority"
                    >{{ priorityLabel(triage.priority) }}</span
                  >
                }
                @if (c.unread > 0) {
                  <span class="badge" data-testid="unread-badge"
                    >{{ c.unread }}<span class="visually-hidden"> unread</span></span
                  >
                }
                @if (c.hidden) {
                  <span class="tag" data-testid="hidden-tag">Hidden</span>
                }
              </h3>
              @if (c.triage?.reasons?.length) {
                <p class="card__line hint" data-testid="triage-reasons">
                  {{ c.triage?.reasons?.join(' · ') }}
                </p>
              }
              <p class="card__meta">
                @if (c.lastMessageAt) {
                  Last message {{ c.lastMessageAt | dateTime }} · {{ c.messageCount }}
                  {{ c.messageCount === 1 ? 'message' : 'messages' }}
                } @else {
                  Started {{ c.startedAt | dateTime }} · no messages yet
                }
                @if (c.awaitingAcknowledgment > 0) {
                  · <strong data-testid="awaiting-ack">{{ c.awaitingAcknowledgment }} to acknowledge</strong>
                }
                @if (!c.active) {
                  · you left this care team
                }
              </p>
            </li>
          } @empty {
            <app-empty-state heading="No conversations yet" testId="conversations-empty">
              {{
                role === 'provider'
                  ? 'When a patient writes to you, or you start a conversation, it appears here.'
                  : 'Start one above with a provider you gave permission for messaging.'
              }}
            </app-empty-state>
          }
        </ul>
        <app-load-more
          label="Show more conversations"
          testId="more-conversations"
          [hasMore]="!!nextCursor()"
          [loading]="loadingMore()"
          (more)="more()"
        />
      }
    </section>
  `,
  styles: `
    .inbox__head {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      justify-content: space-between;
      gap: 0 1rem;
    }
    .inbox__head .field {
      margin-top: 0;
    }
    .badge--muted {
      background: var(--color-surface);
      color: var(--color-text);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConversationList {
  protected readonly role = inject(MESSAGING_ROLE);
  private readonly api = inject(MessagingApi);
  private readonly live = inject(LiveMessages);
  private readonly session = inject(Session);
  private readonly directory = inject(ProviderDirectory);

  private readonly all = signal<readonly ConversationView[]>([]);
  /** The conversations of this side (a provider is also a patient: each area lists its own). */
  protected readonly conversations = computed(() => this.all().filter((c) => c.role === this.role));
  protected readonly loading = signal(true);
  protected readonly error = signal<string | null>(null);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly loadingMore = signal(false);
  protected readonly showHidden = signal(false);
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;

  constructor() {
    void this.load();
    const subscription = this.live.items.subscribe(() => this.refreshSoon());
    const destroyRef = inject(DestroyRef);
    destroyRef.onDestroy(() => {
      subscription.unsubscribe();
      clearTimeout(this.refreshTimer);
    });
    let reconnects = this.live.reconnects();
    effect(() => {
      const now = this.live.reconnects();
      if (now === reconnects) return;
      reconnects = now;
      untracked(() => this.refreshSoon());
    });
  }

  protected names(c: ConversationView): string {
    return counterpartNames(c, this.session.address()?.toLowerCase() ?? '', this.directory);
  }

  protected priorityLabel(priority: TriagePriority): string {
    return PRIORITY_LABELS[priority];
  }

  protected toggleHidden(show: boolean): void {
    this.showHidden.set(show);
    void this.load();
  }

  /** The first page again (and the loading state unless `quiet`). */
  protected async load(quiet = false): Promise<void> {
    const generation = ++this.generation;
    if (!quiet) this.loading.set(true);
    this.error.set(null);
    try {
      const page = await this.api.conversations({ hidden: this.showHidden() });
      if (generation !== this.generation) return;
      this.all.set(page.items);
      this.nextCursor.set(page.nextCursor);
    } catch (error) {
      if (generation === this.generation && !quiet) this.error.set(toApiError(error).message);
    } finally {
      if (generation === this.generation) this.loading.set(false);
    }
  }

  protected async more(): Promise<void> {
    const cursor = this.nextCursor();
    if (!cursor || this.loadingMore()) return;
    const generation = this.generation;
    this.loadingMore.set(true);
    try {
      const page = await this.api.conversations({ hidden: this.showHidden(), cursor });
      if (generation !== this.generation) return;
      const known = new Set(this.all().map((c) => c.id));
      this.all.update((list) => [...list, ...page.items.filter((c) => !known.has(c.id))]);
      this.nextCursor.set(page.nextCursor);
    } catch (error) {
      this.error.set(toApiError(error).message);
    } finally {
      this.loadingMore.set(false);
    }
  }

  private refreshSoon(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.load(true), REFRESH_DEBOUNCE_MS);
  }
}
