import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';

import { toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { ConsultationApi, type SessionView, isJoinable, timeOf } from './consultation-api';
import { counterpartName } from './consultation-text';
import { SessionRow } from './session-row';

/**
 * My consultations (`GET /sessions`), for every role: upcoming and in progress first (soonest first,
 * with Join), then past ones. In the provider area (route data `area: 'provider'`) it links to
 * scheduling a new one.
 *
 * Test hooks: `session-list`, `session-row` (with `data-session-id`, `data-status`), `session-join`,
 * `session-details`, `sessions-empty`, `sessions-error`, `schedule-consultation-link`.
 */
@Component({
  selector: 'app-consultation-list',
  imports: [RouterLink, LoadingState, ErrorState, EmptyState, SessionRow],
  template: `
    <h1>Consultations</h1>
    <p class="lede">
      Video and audio consultations you take part in. A provider can only hold one while the patient's consent
      is active.
    </p>
    @if (providerArea) {
      <p>
        <a routerLink="new" class="button-link" data-testid="schedule-consultation-link"
          >Schedule a consultation</a
        >
      </p>
    }

    @switch (status()) {
      @case ('loading') {
        <app-loading-state label="Loading your consultations…" testId="sessions-loading" />
      }
      @case ('error') {
        <app-error-state
          heading="Your consultations could not be loaded"
          [message]="error()"
          testId="sessions-error"
          (retry)="load()"
        />
      }
      @default {
        @if (sessions().length === 0) {
          <app-empty-state heading="No consultations yet." testId="sessions-empty">
            @if (providerArea) {
              Schedule one with a patient who granted you access.
            } @else {
              When a provider schedules a consultation with you, it appears here.
            }
          </app-empty-state>
        } @else {
          <section class="section" aria-labelledby="upcoming-heading">
            <h2 id="upcoming-heading">
              Upcoming and in progress <span class="count">({{ upcoming().length }})</span>
            </h2>
            @if (upcoming().length === 0) {
              <p class="muted">Nothing planned.</p>
            }
            <ul class="card-list" data-testid="session-list">
              @for (s of upcoming(); track s.id) {
                <li app-session-row [session]="s" [counterpart]="counterpart(s)" [joinable]="true"></li>
              }
            </ul>
          </section>
          @if (past().length > 0) {
            <section class="section" aria-labelledby="past-sessions-heading">
              <h2 id="past-sessions-heading">
                Past <span class="count">({{ past().length }})</span>
              </h2>
              <ul class="card-list" data-testid="past-session-list">
                @for (s of past(); track s.id) {
                  <li app-session-row [session]="s" [counterpart]="counterpart(s)" [joinable]="false"></li>
                }
              </ul>
            </section>
          }
          <div class="actions">
            <button type="button" data-testid="sessions-refresh" (click)="load()">Refresh</button>
          </div>
        }
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConsultationList {
  private readonly api = inject(ConsultationApi);
  private readonly directory = inject(ProviderDirectory);
  private readonly session = inject(Session);
  protected readonly providerArea = inject(ActivatedRoute).snapshot.data['area'] === 'provider';

  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly sessions = signal<readonly SessionView[]>([]);

  protected readonly upcoming = computed(() =>
    this.sessions()
      .filter((s) => isJoinable(s))
      .sort((a, b) => timeOf(a.startsAt) - timeOf(b.startsAt)),
  );
  protected readonly past = computed(() => this.sessions().filter((s) => !isJoinable(s)));

  constructor() {
    void this.load();
  }

  async load(): Promise<void> {
    if (this.status() !== 'ready') this.status.set('loading');
    try {
      const [sessions] = await Promise.all([
        this.api.list(),
        this.directory.load().catch(() => undefined), // names are a nicety
      ]);
      this.sessions.set(sessions);
      this.error.set(null);
      this.status.set('ready');
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }

  protected counterpart(s: SessionView): string {
    return counterpartName(s, this.session.address(), (a) => this.directory.displayName(a));
  }
}
