import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  type ElementRef,
  afterNextRender,
  computed,
  inject,
  Injector,
  input,
  output,
  signal,
  viewChild,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { Wallet, WalletError } from '../core/wallet';
import { type ActionProgress, ActionProgressView } from '../shared/action-progress';
import { categoryLabel } from '../shared/category-label';
import { DateTimePipe, DurationPipe, formatDateTime } from '../shared/time-left';
import { ConsentSigning } from './consent-signing';
import { type ConsentRequest, PatientApi } from './patient-api';

/**
 * One provider's request: what they ask for, why and for how long, with Allow and Decline.
 *
 * Allowing takes two clicks: "Allow" opens a panel that says in plain words what the provider will
 * see and until when; "Sign and allow" signs the grant and follows it until confirmed. With the
 * built-in wallet locked (after a reload), the panel also asks for the passphrase.
 */
@Component({
  selector: 'li[app-consent-request-item]',
  imports: [ActionProgressView, DateTimePipe, DurationPipe],
  host: {
    class: 'card',
    'data-testid': 'request-row',
    '[attr.data-request-id]': 'request().id',
    '[attr.data-category]': 'request().category',
  },
  template: `
    @let r = request();
    <h3 class="card__title">
      {{ providerName() }}
      @if (providerSpecialty()) {
        <span class="card__subtitle">{{ providerSpecialty() }}</span>
      }
    </h3>
    <p class="card__line">
      Asks to see your <strong data-testid="request-category">{{ category() }}</strong> for
      <strong data-testid="request-duration">{{ r.durationSeconds | duration }}</strong>.
    </p>
    <p class="card__line">
      <span class="card__label">Why:</span>&nbsp;<q data-testid="request-purpose">{{ r.purpose }}</q>
    </p>
    <p class="card__meta">Asked on {{ r.requestedAt | dateTime }}</p>

    @if (mode() === 'idle') {
      <div class="actions">
        <button
          #allowButton
          type="button"
          class="button--primary"
          data-testid="request-allow"
          [disabled]="signing.busy()"
          (click)="review()"
        >
          Allow
        </button>
        <button type="button" data-testid="request-decline" [disabled]="declining()" (click)="decline()">
          {{ declining() ? 'Declining…' : 'Decline' }}
        </button>
      </div>
      @if (declineError()) {
        <p class="form-error" role="alert" data-testid="request-decline-error">{{ declineError() }}</p>
      }
    }

    @if (mode() === 'reviewing') {
      <form
        class="panel"
        data-testid="allow-panel"
        [attr.aria-labelledby]="'allow-heading-' + r.id"
        (submit)="signAndAllow($event)"
      >
        <h4 class="panel__heading" [id]="'allow-heading-' + r.id" tabindex="-1" #panelHeading>
          Before you allow
        </h4>
        <p data-testid="allow-summary">
          <strong>{{ providerName() }}</strong> will be able to see your
          <strong>{{ category() }}</strong> until <strong>{{ until() }}</strong> ({{
            r.durationSeconds | duration
          }}
          from now).
        </p>
        <p>They will not see your other records. You can take this access back at any time.</p>
        @if (wallet.locked()) {
          <div class="field">
            <label [for]="'allow-passphrase-' + r.id">Your passphrase, to sign</label>
            <input
              #passphrase
              [id]="'allow-passphrase-' + r.id"
              type="password"
              autocomplete="current-password"
              required
              data-testid="allow-passphrase"
            />
          </div>
        } @else if (wallet.kind() === 'extension') {
          <p class="hint">Your wallet extension will ask you to confirm.</p>
        }
        @if (panelError()) {
          <p class="form-error" role="alert" data-testid="allow-error">{{ panelError() }}</p>
        }
        <div class="actions">
          <button
            type="submit"
            class="button--primary"
            data-testid="request-sign-allow"
            [disabled]="signing.busy()"
          >
            Sign and allow
          </button>
          <button type="button" data-testid="request-cancel" (click)="cancel()">Cancel</button>
        </div>
      </form>
    }

    @if (mode() === 'running') {
      <app-action-progress [progress]="progress()" confirmedText="Access given." (retry)="retry()" />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConsentRequestItem {
  readonly request = input.required<ConsentRequest>();
  readonly providerName = input.required<string>();
  readonly providerSpecialty = input<string | null>(null);
  /** The grant is confirmed on-chain. */
  readonly allowed = output<void>();
  /** The request was declined. */
  readonly declined = output<void>();

  protected readonly wallet = inject(Wallet);
  protected readonly signing = inject(ConsentSigning);
  private readonly api = inject(PatientApi);
  private readonly injector = inject(Injector);
  private readonly abort = new AbortController();

  protected readonly mode = signal<'idle' | 'reviewing' | 'running'>('idle');
  protected readonly progress = signal<ActionProgress>({ step: 'idle' });
  protected readonly panelError = signal<string | null>(null);
  protected readonly declining = signal(false);
  protected readonly declineError = signal<string | null>(null);

  protected readonly category = computed(() => categoryLabel(this.request().category));
  /** When the access would end if allowed now (recomputed when the panel opens). */
  protected readonly until = signal('');

  private readonly panelHeading = viewChild<ElementRef<HTMLElement>>('panelHeading');
  private readonly passphrase = viewChild<ElementRef<HTMLInputElement>>('passphrase');
  private readonly allowButton = viewChild<ElementRef<HTMLButtonElement>>('allowButton');

  constructor() {
    inject(DestroyRef).onDestroy(() => this.abort.abort());
  }

  /** First click: show what allowing means. */
  protected review(): void {
    this.until.set(formatDateTime(Math.floor(Date.now() / 1000) + this.request().durationSeconds));
    this.panelError.set(null);
    this.mode.set('reviewing');
    this.focusAfterRender(() => (this.passphrase() ?? this.panelHeading())?.nativeElement);
  }

  protected cancel(): void {
    this.mode.set('idle');
    this.focusAfterRender(() => this.allowButton()?.nativeElement);
  }

  /** Second click: sign the grant (unlocking the built-in wallet first if needed) and follow it. */
  protected async signAndAllow(event?: Event): Promise<void> {
    event?.preventDefault();
    if (this.signing.busy()) return;
    if (this.wallet.locked()) {
      const passphrase = this.passphrase()?.nativeElement.value ?? '';
      if (!passphrase) {
        this.panelError.set('Enter your passphrase to sign.');
        this.passphrase()?.nativeElement.focus();
        return;
      }
      try {
        await this.wallet.unlock(passphrase);
      } catch (error) {
        this.panelError.set(error instanceof WalletError ? error.message : 'Could not unlock your account.');
        this.passphrase()?.nativeElement.select();
        return;
      }
    }
    await this.run();
  }

  /** Retry after a failure: ask for the passphrase again if the wallet is locked, else sign again. */
  protected retry(): void {
    if (this.wallet.locked()) {
      this.review();
      return;
    }
    void this.run();
  }

  protected async decline(): Promise<void> {
    this.declining.set(true);
    this.declineError.set(null);
    try {
      await this.api.decline(this.request().id);
      this.declined.emit();
    } catch (error) {
      this.declineError.set(toApiError(error).message);
    } finally {
      this.declining.set(false);
    }
  }

  private async run(): Promise<void> {
    const r = this.request();
    this.mode.set('running');
    this.progress.set({ step: 'signing', inExtension: this.wallet.kind() === 'extension' });
    const confirmed = await this.signing.grant(
      { provider: r.provider, category: r.category, durationSeconds: r.durationSeconds },
      (p) => this.progress.set(p),
      this.abort.signal,
    );
    if (confirmed) this.allowed.emit();
  }

  private focusAfterRender(target: () => HTMLElement | null | undefined): void {
    afterNextRender(() => target()?.focus(), { injector: this.injector });
  }
}
