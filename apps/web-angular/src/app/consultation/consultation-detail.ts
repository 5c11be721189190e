import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { ActivatedRoute, RouterLink } from '@angular/router';

import { sameAddress, shortAddress } from '../core/address';
import { toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { AddressChip } from '../shared/address-chip';
import { categoryLabel } from '../shared/category-label';
import { ConfirmDialog } from '../shared/confirm-dialog';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe } from '../shared/time-left';
import {
  ConsultationApi,
  JOIN_EARLY_MINUTES,
  type SessionParticipant,
  type SessionView,
  isJoinable,
  roomOpensAt,
  timeOf,
} from './consultation-api';
import { counterpartName, modeLabel, roleLabel, statusLabel } from './consultation-text';
import { InviteForm } from './invite-form';
import { RecordingConsentPanel } from './recording-consent';

/**
 * One consultation: when, what kind, about what, its status and participants, and Join. The patient
 * answers the recording question and admits invitees; the consultation's provider invites people and
 * can end it.
 *
 * Test hooks: `session-detail` (with `data-session-id`, `data-status`), `session-status`,
 * `session-join`, `session-participant` (with `data-participant`, `data-admitted`),
 * `admit-participant`, `session-end`, `session-detail-error`, and those of the recording-consent
 * panel and the invite form.
 */
@Component({
  selector: 'app-consultation-detail',
  imports: [
    RouterLink,
    LoadingState,
    ErrorState,
    AddressChip,
    ConfirmDialog,
    DateTimePipe,
    InviteForm,
    RecordingConsentPanel,
  ],
  template: `
    <p><a routerLink=".." data-testid="session-back">← All consultations</a></p>
    @switch (status()) {
      @case ('loading') {
        <app-loading-state label="Loading the consultation…" testId="session-detail-loading" />
      }
      @case ('error') {
        <h1>Consultation</h1>
        <app-error-state
          heading="This consultation could not be loaded"
          [message]="error()"
          testId="session-detail-error"
          [retryable]="retryable()"
          (retry)="load()"
        />
      }
      @default {
        @if (consultation(); as s) {
          <article data-testid="session-detail" [attr.data-session-id]="s.id" [attr.data-status]="s.status">
            <h1>Consultation with {{ counterpart() }}</h1>
            <dl class="facts">
              <dt>When</dt>
              <dd>{{ s.startsAt | dateTime }} to {{ s.endsAt | dateTime }} ({{ minutes() }} minutes)</dd>
              <dt>Kind</dt>
              <dd>{{ modeLabel(s.mode) }}</dd>
              <dt>About</dt>
              <dd>
                {{ s.category === 'telehealth' ? 'A general consultation' : categoryLabel(s.category) }}
              </dd>
              <dt>Status</dt>
              <dd>
                <span class="tag" [class.tag--ok]="s.status === 'live'" data-testid="session-status">{{
                  statusLabel(s.status)
                }}</span>
                @if (endedText()) {
                  <span class="muted">{{ endedText() }}</span>
                }
              </dd>
              <dt>You take part as</dt>
              <dd>{{ roleLabel(s.role).toLowerCase() }}</dd>
            </dl>

            @if (joinable()) {
              <div class="actions">
                <a class="button-link" routerLink="room" data-testid="session-join">Join the call</a>
              </div>
              @if (tooEarly()) {
                <p class="hint" data-testid="session-opens">
                  The room opens {{ joinEarly }} minutes before the start, at {{ opensAt() | dateTime }}.
                </p>
              }
            }

            @if (isPatient()) {
              <app-recording-consent [session]="s" (changed)="onRecordingConsent($event)" />
            }

            <section class="section" aria-labelledby="participants-heading">
              <h2 id="participants-heading">Participants</h2>
              <ul class="plain-list">
                @for (p of s.participants; track p.address) {
                  <li
                    class="participant"
                    data-testid="session-participant"
                    [attr.data-participant]="p.address"
                    [attr.data-admitted]="p.admitted"
                  >
                    <strong>{{ name(p) }}</strong>
                    @if (name(p) !== roleLabel(p.role)) {
                      <span>· {{ roleLabel(p.role) }}</span>
                    }
                    <app-address-chip [address]="p.address" testId="session-participant-address" />
                    @if (!p.admitted) {
                      <span class="tag">Waiting to be admitted</span>
                    } @else if (p.joined) {
                      <span class="tag tag--ok">In the call</span>
                    }
                    @if (isPatient() && !p.admitted && joinable()) {
                      <button
                        type="button"
                        class="button--primary"
                        data-testid="admit-participant"
                        [attr.data-participant]="p.address"
                        [disabled]="admitting() === p.address"
                        (click)="admit(p)"
                      >
                        Admit
                      </button>
                    }
                  </li>
                }
              </ul>
              @if (actionError()) {
                <p class="form-error" role="alert" data-testid="session-action-error">{{ actionError() }}</p>
              }
              <p class="notice" role="status" data-testid="session-notice">{{ notice() }}</p>
            </section>

            @if (isProvider() && joinable()) {
              <app-invite-form [sessionId]="s.id" (invited)="load()" />
              <section class="section" aria-labelledby="end-heading">
                <h2 id="end-heading">End the consultation</h2>
                <p>Everyone in the call is disconnected, and nobody can join it again.</p>
                <button type="button" class="button--danger" data-testid="session-end" (click)="end()">
                  End the consultation
                </button>
              </section>
              <app-confirm-dialog
                #confirmEnd
                heading="End this consultation?"
                confirmLabel="End it"
                cancelLabel="Keep it"
                tone="danger"
                testId="end-dialog"
              >
                <p>Everyone in the call is disconnected, and nobody can join it again.</p>
              </app-confirm-dialog>
            }
          </article>
        }
      }
    }
  `,
  styles: `
    .participant {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.375rem 0.5rem;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConsultationDetail {
  private readonly api = inject(ConsultationApi);
  private readonly directory = inject(ProviderDirectory);
  private readonly session = inject(Session);

  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly retryable = signal(true);
  protected readonly consultation = signal<SessionView | null>(null);
  protected readonly admitting = signal<string | null>(null);
  protected readonly actionError = signal<string | null>(null);
  protected readonly notice = signal('');
  private readonly now = signal(Date.now());
  private id = '';

  protected readonly joinEarly = JOIN_EARLY_MINUTES;
  protected readonly categoryLabel = categoryLabel;
  protected readonly modeLabel = modeLabel;
  protected readonly roleLabel = roleLabel;
  protected readonly statusLabel = statusLabel;

  protected readonly isPatient = computed(() =>
    sameAddress(this.consultation()?.patient, this.session.address()),
  );
  protected readonly isProvider = computed(() =>
    sameAddress(this.consultation()?.provider, this.session.address()),
  );
  protected readonly joinable = computed(() => {
    const s = this.consultation();
    return !!s && isJoinable(s, this.now());
  });
  protected readonly opensAt = computed(() => {
    const s = this.consultation();
    return s ? new Date(roomOpensAt(s)).toISOString() : '';
  });
  protected readonly tooEarly = computed(() => {
    const s = this.consultation();
    return !!s && this.now() < roomOpensAt(s);
  });
  protected readonly counterpart = computed(() => {
    const s = this.consultation();
    return s ? counterpartName(s, this.session.address(), (a) => this.directory.displayName(a)) : '';
  });
  protected readonly minutes = computed(() => {
    const s = this.consultation();
    return s ? Math.round((timeOf(s.endsAt) - timeOf(s.startsAt)) / 60_000) : 0;
  });
  protected readonly endedText = computed(() => {
    const s = this.consultation();
    if (!s) return '';
    if (s.status === 'no_show') {
      return s.missing === 'both'
        ? 'Nobody joined.'
        : s.missing === 'patient'
          ? 'The patient did not join.'
          : 'The provider did not join.';
    }
    if (s.status !== 'ended') return '';
    if (s.endedBy === 'time') return 'The scheduled time is over.';
    return sameAddress(s.endedBy, this.session.address()) ? 'You ended it.' : 'The provider ended it.';
  });

  private readonly confirmEnd = viewChild<ConfirmDialog>('confirmEnd');

  constructor() {
    inject(ActivatedRoute)
      .paramMap.pipe(takeUntilDestroyed())
      .subscribe((params) => {
        this.id = params.get('id') ?? '';
        void this.load();
      });
    const timer = setInterval(() => this.now.set(Date.now()), 30_000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }

  async load(): Promise<void> {
    if (this.status() !== 'ready') this.status.set('loading');
    try {
      const [consultation] = await Promise.all([
        this.api.get(this.id),
        this.directory.load().catch(() => undefined),
      ]);
      this.consultation.set(consultation);
      this.now.set(Date.now());
      this.status.set('ready');
    } catch (error) {
      const e = toApiError(error);
      this.error.set(
        e.status === 404 ? 'This consultation does not exist, or you do not take part in it.' : e.message,
      );
      this.retryable.set(e.status !== 404);
      this.status.set('error');
    }
  }

  /** "You", "The patient", the name in the directory, or the role (the address chip follows). */
  protected name(p: SessionParticipant): string {
    if (sameAddress(p.address, this.session.address())) return 'You';
    const s = this.consultation();
    if (s && sameAddress(p.address, s.patient)) return 'The patient';
    const name = this.directory.displayName(p.address);
    return name === shortAddress(p.address) ? roleLabel(p.role) : name;
  }

  protected async admit(p: SessionParticipant): Promise<void> {
    this.admitting.set(p.address);
    this.actionError.set(null);
    try {
      await this.api.admit(this.id, p.address);
      await this.load();
      this.notice.set(`${this.name(p)} can now join the call.`);
    } catch (error) {
      this.actionError.set(toApiError(error).message);
    } finally {
      this.admitting.set(null);
    }
  }

  protected async onRecordingConsent(consent: boolean): Promise<void> {
    await this.load();
    this.notice.set(consent ? 'You allowed recording.' : 'You said no to recording.');
  }

  protected async end(): Promise<void> {
    if (!(await this.confirmEnd()?.open())) return;
    this.actionError.set(null);
    try {
      await this.api.end(this.id);
      await this.load();
      this.notice.set('You ended the consultation.');
    } catch (error) {
      this.actionError.set(toApiError(error).message);
    }
  }
}
