import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  type ElementRef,
  computed,
  inject,
  input,
  output,
  signal,
  viewChild,
} from '@angular/core';

import { Wallet, WalletError } from '../core/wallet';
import { AddressChip } from '../shared/address-chip';
import { type ActionProgress, ActionProgressView } from '../shared/action-progress';
import { categoryLabel } from '../shared/category-label';
import { ConfirmDialog } from '../shared/confirm-dialog';
import { DateTimePipe, TimeLeftPipe } from '../shared/time-left';
import { ConsentSigning } from './consent-signing';
import type { ConsentGrant } from './patient-api';

/**
 * One active grant: who, what, until when and the time left, with "Revoke access" behind a
 * confirmation (which also asks for the passphrase when the built-in wallet is locked).
 */
@Component({
  selector: 'li[app-grant-item]',
  imports: [ActionProgressView, AddressChip, ConfirmDialog, DateTimePipe, TimeLeftPipe],
  host: {
    class: 'card',
    'data-testid': 'grant-row',
    '[attr.data-provider]': 'grant().provider',
    '[attr.data-category]': 'grant().category',
  },
  template: `
    @let g = grant();
    <h3 class="card__title">
      {{ providerName() }}
      @if (providerSpecialty()) {
        <span class="card__subtitle">{{ providerSpecialty() }}</span>
      }
    </h3>
    <p class="card__line">
      Can see your <strong data-testid="grant-category">{{ category() }}</strong>
    </p>
    <p class="card__line">
      Until {{ g.expiresAt | dateTime }} ·
      <strong class="time-left" data-testid="grant-time-left">{{ g.expiresAt | timeLeft }}</strong>
    </p>
    <p class="card__meta"><app-address-chip [address]="g.provider" testId="grant-provider-address" /></p>

    @if (progress().step === 'idle') {
      <div class="actions">
        <button
          type="button"
          class="button--danger"
          data-testid="grant-revoke"
          [disabled]="signing.busy()"
          (click)="askRevoke()"
        >
          Revoke access
        </button>
      </div>
    } @else {
      <app-action-progress [progress]="progress()" confirmedText="Access taken back." (retry)="retry()" />
    }

    <app-confirm-dialog
      #confirm
      heading="Take back access?"
      confirmLabel="Sign and revoke"
      cancelLabel="Keep access"
      tone="danger"
      testId="revoke-dialog"
    >
      <p>
        <strong>{{ providerName() }}</strong> will no longer be able to see your {{ category() }}, starting
        now.
      </p>
      @if (wallet.locked()) {
        <div class="field">
          <label [for]="'revoke-passphrase-' + g.provider + g.category">Your passphrase, to sign</label>
          <input
            #passphrase
            [id]="'revoke-passphrase-' + g.provider + g.category"
            type="password"
            autocomplete="current-password"
            autofocus
            data-testid="revoke-passphrase"
          />
        </div>
      }
      @if (dialogError()) {
        <p class="form-error" role="alert" data-testid="revoke-error">{{ dialogError() }}</p>
      }
    </app-confirm-dialog>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class GrantItem {
  readonly grant = input.required<ConsentGrant>();
  readonly providerName = input.required<string>();
  readonly providerSpecialty = input<string | null>(null);
  /** The revocation is confirmed on-chain. */
  readonly revoked = output<void>();

  protected readonly wallet = inject(Wallet);
  protected readonly signing = inject(ConsentSigning);
  private readonly abort = new AbortController();

  protected readonly progress = signal<ActionProgress>({ step: 'idle' });
  protected readonly dialogError = signal<string | null>(null);
  protected readonly category = computed(() => categoryLabel(this.grant().category));

  private readonly confirm = viewChild.required<ConfirmDialog>('confirm');
  private readonly passphrase = viewChild<ElementRef<HTMLInputElement>>('passphrase');

  constructor() {
    inject(DestroyRef).onDestroy(() => this.abort.abort());
  }

  /** Asks for confirmation (and the passphrase if needed), then signs and follows the revocation. */
  protected async askRevoke(): Promise<void> {
    this.dialogError.set(null);
    for (;;) {
      if (!(await this.confirm().open())) return;
      if (!this.wallet.locked()) break;
      const passphrase = this.passphrase()?.nativeElement.value ?? '';
      try {
        await this.wallet.unlock(passphrase);
        break;
      } catch (error) {
        this.dialogError.set(error instanceof WalletError ? error.message : 'Could not unlock your account.');
      }
    }
    await this.run();
  }

  protected retry(): void {
    if (this.wallet.locked()) {
      this.progress.set({ step: 'idle' });
      void this.askRevoke();
      return;
    }
    void this.run();
  }

  private async run(): Promise<void> {
    const g = this.grant();
    this.progress.set({ step: 'signing', inExtension: this.wallet.kind() === 'extension' });
    const confirmed = await this.signing.revoke(
      { provider: g.provider, category: g.category },
      (p) => this.progress.set(p),
      this.abort.signal,
    );
    if (confirmed) this.revoked.emit();
  }
}
