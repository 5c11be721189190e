import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { RouterLink } from '@angular/router';

import { DateTimePipe } from '../shared/time-left';
import { type SessionView, timeOf } from './consultation-api';
import { consultationTopic, modeLabel, roleLabel, statusLabel } from './consultation-text';

/**
 * One consultation in a list: with whom, when, how long, what kind, its status, and Join (when it can
 * still be joined) and Details. Links are relative to the list's route (`<id>`, `<id>/room`).
 */
@Component({
  selector: 'li[app-session-row]',
  imports: [RouterLink, DateTimePipe],
  host: {
    class: 'card',
    'data-testid': 'session-row',
    '[attr.data-session-id]': 'session().id',
    '[attr.data-status]': 'session().status',
  },
  template: `
    @let s = session();
    <h3 class="card__title">
      Consultation with {{ counterpart() }}
      <span class="card__subtitle">{{ mode() }}{{ topic() ? ' · ' + topic() : '' }}</span>
    </h3>
    <p class="card__line">
      {{ s.startsAt | dateTime }} · {{ minutes() }} minutes ·
      <span class="tag" [class.tag--ok]="s.status === 'live'" data-testid="session-status">{{
        status()
      }}</span>
    </p>
    <p class="card__meta">You take part as {{ role() }}.</p>
    <div class="actions">
      @if (joinable()) {
        <a
          class="button-link"
          [routerLink]="[s.id, 'room']"
          data-testid="session-join"
          [attr.aria-label]="'Join the consultation with ' + counterpart()"
          >Join</a
        >
      }
      <a
        [routerLink]="[s.id]"
        data-testid="session-details"
        [attr.aria-label]="'Details of the consultation with ' + counterpart()"
        >Details</a
      >
    </div>
  `,
  styles: `
    .actions {
      align-items: center;
      gap: 0.5rem 1rem;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SessionRow {
  readonly session = input.required<SessionView>();
  /** Who it is with, as the viewer names them. */
  readonly counterpart = input.required<string>();
  readonly joinable = input(false);

  protected readonly mode = computed(() => modeLabel(this.session().mode));
  protected readonly topic = computed(() => consultationTopic(this.session().category));
  protected readonly status = computed(() => statusLabel(this.session().status));
  protected readonly role = computed(() => roleLabel(this.session().role).toLowerCase());
  protected readonly minutes = computed(() =>
    Math.round((timeOf(this.session().endsAt) - timeOf(this.session().startsAt)) / 60_000),
  );
}
