import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  effect,
  inject,
  signal,
} from '@angular/core';
import { RouterLink } from '@angular/router';

import { toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadMore } from '../shared/load-more';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe } from '../shared/time-left';
import { NotificationFeed } from './notification-feed';
import { describeNotification } from './notification-text';

/**
 * My notifications (`GET /notifications/me`), newest first, new ones marked; an emergency access
 * stands out. Viewing the list marks everything as seen (clears the badge).
 */
@Component({
  selector: 'app-notification-list',
  imports: [RouterLink, LoadingState, LoadMore, ErrorState, EmptyState, DateTimePipe],
  template: `
    <h1>Notifications</h1>
    @switch (feed.status()) {
      @case ('error') {
        <app-error-state
          heading="Your notifications could not be loaded"
          [message]="feed.error()"
          testId="notifications-error"
          (retry)="feed.load()"
        />
      }
      @case ('ready') {
        @if (rows().length === 0) {
          <app-empty-state heading="You have no notifications." testId="notifications-empty">
            Requests from providers and any emergency access to your records are announced here.
          </app-empty-state>
        } @else {
          <ul class="card-list" data-testid="notification-list">
            @for (row of rows(); track row.item.id) {
              <li
                class="card notification"
                [class.notification--urgent]="row.urgent"
                [class.notification--new]="row.isNew"
                data-testid="notification-row"
                [attr.data-kind]="row.item.kind"
                [attr.data-urgent]="row.urgent"
              >
                <p class="notification__text">
                  @if (row.urgent) {
                    <span class="tag tag--emergency">Emergency</span>
                  }
                  @if (row.isNew) {
                    <span class="tag tag--new">New</span>
                  }
                  {{ row.text }}
                </p>
                <p class="card__meta">
                  {{ row.item.occurredAt | dateTime }}
                  @if (row.link) {
                    · <a [routerLink]="row.link.path">{{ row.link.label }}</a>
                  }
                </p>
              </li>
            }
          </ul>
          <app-load-more
            label="Show older notifications"
            testId="notifications-more"
            [hasMore]="feed.hasMore()"
            [loading]="loadingMore()"
            [error]="moreError()"
            (more)="more()"
          />
        }
      }
      @default {
        <app-loading-state label="Loading your notifications…" testId="notifications-loading" />
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class NotificationList {
  protected readonly feed = inject(NotificationFeed);
  private readonly directory = inject(ProviderDirectory);
  /** The unseen ids when the page opened, so "New" stays visible while reading. */
  private readonly newIds = signal<ReadonlySet<string>>(new Set());
  protected readonly loadingMore = signal(false);
  protected readonly moreError = signal<string | null>(null);

  protected readonly rows = computed(() => {
    const newIds = this.newIds();
    return this.feed.items().map((item) => ({
      item,
      ...describeNotification(item, (a) => this.directory.displayName(a)),
      isNew: newIds.has(item.id),
    }));
  });

  constructor() {
    void this.feed.load();
    this.directory.load().catch(() => undefined);
    // Once loaded, remember what was new, then mark everything seen (the badge clears).
    const ref = effect(() => {
      if (this.feed.status() !== 'ready') return;
      this.newIds.set(new Set(this.feed.unseen().map((n) => n.id)));
      this.feed.markSeen();
      ref.destroy();
    });
    inject(DestroyRef).onDestroy(() => this.feed.markSeen());
  }

  protected async more(): Promise<void> {
    this.loadingMore.set(true);
    this.moreError.set(null);
    try {
      await this.feed.loadMore();
    } catch (error) {
      this.moreError.set(toApiError(error).message);
    } finally {
      this.loadingMore.set(false);
    }
  }
}
