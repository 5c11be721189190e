import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';

import { shortAddress } from '../core/address';
import { ApiError, toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe } from '../shared/time-left';
import { CONSENT_REQUIRED } from './conversation-thread';
import { type ConversationView, MessagingApi, type MessagingContact } from './messaging-api';
import { MESSAGING_ROLE } from './messaging-role';

/**
 * Starts a conversation: a patient with a provider they gave permission for messaging, a provider with
 * a patient who gave them that permission. Opens the existing one instead when there is one.
 */
@Component({
  selector: 'app-new-conversation-form',
  imports: [RouterLink, LoadingState, ErrorState, DateTimePipe],
  template: `
    <section class="panel" aria-labelledby="new-conversation-heading">
      <h2 id="new-conversation-heading">New conversation</h2>
      @if (loading()) {
        <app-loading-state label="Loading who you can write to…" testId="new-conversation-loading" />
      } @else if (loadError()) {
        <app-error-state
          heading="Who you can write to could not be loaded"
          [message]="loadError()"
          testId="new-conversation-load-error"
          (retry)="load()"
        />
      } @else if (contacts().length === 0) {
        <p data-testid="new-conversation-empty">
          @if (role === 'patient') {
            You can write to a provider once you give them permission for <strong>messages with you</strong>.
            <a routerLink="/patient">Manage permissions</a>
          } @else {
            You can write to a patient once they give you permission for messaging.
          }
        </p>
      } @else {
        <form class="new-conversation" data-testid="new-conversation-form" (submit)="start($event)">
          <div class="field">
            <label for="new-conversation-counterpart">{{
              role === 'patient' ? 'Provider' : 'Patient'
            }}</label>
            <select
              id="new-conversation-counterpart"
              data-testid="new-conversation-counterpart"
              [value]="selected()"
              (change)="selected.set($any($event.target).value)"
            >
              @for (contact of contacts(); track contact.address) {
                <option [value]="contact.address">{{ label(contact) }}</option>
              }
            </select>
            @if (selectedContact(); as contact) {
              <p class="hint">Permission for messaging until {{ contact.until | dateTime }}.</p>
            }
          </div>
          @if (startError()) {
            <p class="form-error" role="alert" data-testid="new-conversation-error">{{ startError() }}</p>
          }
          <div class="actions">
            <button
              type="submit"
              class="button--primary"
              data-testid="new-conversation-submit"
              [disabled]="starting()"
            >
              {{ starting() ? 'Starting…' : 'Start conversation' }}
            </button>
          </div>
        </form>
      }
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class NewConversationForm {
  /** The conversations already listed, to open one rather than start a second with the same people. */
  readonly existing = input<readonly ConversationView[]>([]);

  protected readonly role = inject(MESSAGING_ROLE);
  private readonly api = inject(MessagingApi);
  private readonly session = inject(Session);
  private readonly directory = inject(ProviderDirectory);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);

  protected readonly loading = signal(true);
  protected readonly loadError = signal<string | null>(null);
  protected readonly contacts = signal<readonly MessagingContact[]>([]);
  protected readonly selected = signal('');
  protected readonly starting = signal(false);
  protected readonly startError = signal<string | null>(null);
  protected readonly selectedContact = computed(() =>
    this.contacts().find((c) => c.address === this.selected()),
  );

  constructor() {
    void this.load();
  }

  protected async load(): Promise<void> {
    this.loading.set(true);
    this.loadError.set(null);
    try {
      const contacts =
        this.role === 'patient'
          ? await this.api.providersICanMessage()
          : await this.api.patientsICanMessage();
      const me = this.me();
      const others = contacts.filter((c) => c.address !== me);
      this.contacts.set(others);
      if (!others.some((c) => c.address === this.selected())) this.selected.set(others[0]?.address ?? '');
    } catch (error) {
      this.loadError.set(toApiError(error).message);
    } finally {
      this.loading.set(false);
    }
  }

  protected label(contact: MessagingContact): string {
    if (this.role === 'provider') return `Patient ${shortAddress(contact.address)}`;
    const profile = this.directory.profile(contact.address);
    const name = this.directory.displayName(contact.address);
    return profile?.specialty ? `${name} (${profile.specialty})` : name;
  }

  protected async start(event: Event): Promise<void> {
    event.preventDefault();
    const counterpart = this.selected();
    const me = this.me();
    if (!counterpart || !me || this.starting()) return;
    const patient = this.role === 'patient' ? me : counterpart;
    const provider = this.role === 'patient' ? counterpart : me;
    const already = this.existing().find(
      (c) => c.patient === patient && c.providers.length === 1 && c.providers[0] === provider && c.active,
    );
    if (already) {
      await this.router.navigate([already.id], { relativeTo: this.route });
      return;
    }
    this.starting.set(true);
    this.startError.set(null);
    try {
      const { id } = await this.api.start(patient, [provider]);
      await this.router.navigate([id], { relativeTo: this.route });
    } catch (error) {
      this.startError.set(describeStartError(error, this.role));
    } finally {
      this.starting.set(false);
    }
  }

  private me(): string {
    return this.session.address()?.toLowerCase() ?? '';
  }
}

function describeStartError(error: unknown, role: 'patient' | 'provider'): string {
  if (error instanceof ApiError && error.code === CONSENT_REQUIRED) {
    return role === 'patient'
      ? 'You have not given this provider permission for messaging (or it ended), so the conversation cannot start.'
      : 'This patient has not given you permission for messaging (or it ended), so the conversation cannot start.';
  }
  return toApiError(error).message;
}
