import { ChangeDetectionStrategy, Component, DestroyRef, computed, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

import { ProviderDirectory } from '../core/provider-directory';
import { KeySharingStatus } from '../records/key-sharing-status';
import { NotificationFeed } from './notification-feed';
import { describeNotification } from './notification-text';

/** How often the notification badge is refreshed while in the patient area (ms). */
const NOTIFICATION_REFRESH_MS = 60_000;

/**
 * The patient area: its own navigation (overview, access log, notifications with a badge of new
 * ones, health records, account) and, above it, a banner for an emergency access not yet seen. Record
 * keys waiting to be shared are shared quietly once the encryption key is unlocked (see
 * `KeySharingStatus`).
 */
@Component({
  selector: 'app-patient-page',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, KeySharingStatus],
  template: `
    @if (emergency(); as alert) {
      <div class="banner banner--emergency" role="alert" data-testid="emergency-banner">
        <p class="banner__text"><strong>Emergency access to your records.</strong> {{ alert.text }}</p>
        <a routerLink="/patient/notifications">See your notifications</a>
      </div>
    }
    <nav class="subnav" aria-label="Your records">
      <ul>
        <li>
          <a
            routerLink="/patient"
            routerLinkActive="is-active"
            [routerLinkActiveOptions]="{ exact: true }"
            ariaCurrentWhenActive="page"
            >Overview</a
          >
        </li>
        <li>
          <a routerLink="/patient/access-log" routerLinkActive="is-active" ariaCurrentWhenActive="page"
            >Access log</a
          >
        </li>
        <li>
          <a
            routerLink="/patient/notifications"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-notifications"
          >
            Notifications
            @if (feed.unseenCount() > 0) {
              <span
                class="badge"
                [class.badge--urgent]="!!feed.unseenEmergency()"
                data-testid="notification-badge"
              >
                {{ feed.unseenCount() }}<span class="visually-hidden"> new</span>
              </span>
            }
          </a>
        </li>
        <li>
          <a
            routerLink="/patient/records"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-records"
            >Health records</a
          >
        </li>
        <li>
          <a
            routerLink="/patient/messages"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-messages"
            >Messages</a
          >
        </li>
        <li>
          <a
            routerLink="/patient/consultations"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-consultations"
            >Consultations</a
          >
        </li>
        <li>
          <a routerLink="/patient/account" routerLinkActive="is-active" ariaCurrentWhenActive="page"
            >Your account</a
          >
        </li>
      </ul>
    </nav>
    <app-key-sharing-status />
    <router-outlet />
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PatientPage {
  protected readonly feed = inject(NotificationFeed);
  private readonly directory = inject(ProviderDirectory);

  protected readonly emergency = computed(() => {
    const notification = this.feed.unseenEmergency();
    return notification ? describeNotification(notification, (a) => this.directory.displayName(a)) : null;
  });

  constructor() {
    void this.feed.load();
    this.directory.load().catch(() => undefined);
    const timer = setInterval(() => void this.feed.load(), NOTIFICATION_REFRESH_MS);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }
}
