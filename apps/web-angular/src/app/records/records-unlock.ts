import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { Wallet, WalletError } from '../core/wallet';
import { MessagingKeys } from '../messaging/messaging-keys';

/**
 * Before records can be encrypted or opened: the wallet signs to unlock the encryption key (the same
 * X25519 key pair as private messages, derived from the signature and never stored; the first time it
 * signs once more to register it, see `MessagingKeys.unlock`). With the built-in wallet locked (after
 * a reload), the passphrase is asked first.
 *
 * Test hooks: `records-unlock-passphrase`, `records-unlock-error`, `records-unlock-status`, `records-unlock`.
 */
@Component({
  selector: 'app-records-unlock',
  template: `
    <section class="panel" aria-labelledby="records-unlock-heading">
      <h2 id="records-unlock-heading">Your records are encrypted</h2>
      <p>
        Records are encrypted in your browser before they are uploaded, and only the people you give access
        can open them, not even Custos. To open or add them, your account signs a short text. Signing costs
        nothing and sends nothing.
      </p>
      <form (submit)="unlock($event)">
        @if (wallet.locked()) {
          <div class="field">
            <label for="records-unlock-passphrase">Your passphrase, to sign</label>
            <input
              #passphrase
              id="records-unlock-passphrase"
              type="password"
              autocomplete="current-password"
              data-testid="records-unlock-passphrase"
            />
          </div>
        } @else if (wallet.kind() === 'extension') {
          <p class="hint">Your wallet extension will ask you to sign (twice the first time).</p>
        }
        @if (error()) {
          <p class="form-error" role="alert" data-testid="records-unlock-error">{{ error() }}</p>
        }
        <p class="hint" role="status" data-testid="records-unlock-status">{{ status() }}</p>
        <div class="actions">
          <button type="submit" class="button--primary" data-testid="records-unlock" [disabled]="busy()">
            {{ busy() ? 'Unlocking…' : 'Sign to unlock your records' }}
          </button>
        </div>
      </form>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordsUnlock {
  protected readonly wallet = inject(Wallet);
  private readonly keys = inject(MessagingKeys);
  private readonly passphrase = viewChild<ElementRef<HTMLInputElement>>('passphrase');

  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly status = computed(() => {
    switch (this.keys.step()) {
      case 'deriving':
        return 'Waiting for your signature…';
      case 'registering':
        return 'First time here: sign once more to confirm this encryption key is yours.';
      default:
        return '';
    }
  });

  protected async unlock(event: Event): Promise<void> {
    event.preventDefault();
    if (this.busy()) return;
    const passphrase = this.passphrase()?.nativeElement.value;
    if (this.wallet.locked() && !passphrase) {
      this.error.set('Enter your passphrase to sign.');
      this.passphrase()?.nativeElement.focus();
      return;
    }
    this.busy.set(true);
    this.error.set(null);
    try {
      await this.keys.unlock(passphrase);
    } catch (error) {
      this.error.set(error instanceof WalletError ? error.message : toApiError(error).message);
      this.passphrase()?.nativeElement.select();
    } finally {
      this.busy.set(false);
    }
  }
}
