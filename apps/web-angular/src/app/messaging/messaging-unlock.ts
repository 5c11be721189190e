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
import { MessagingKeys } from './messaging-keys';

/**
 * Before the first message of a visit: the wallet signs to unlock the messaging key (derived from the
 * signature, never stored), and the first time signs once more to register it. With the built-in
 * wallet locked (after a reload), the passphrase is asked first.
 */
@Component({
  selector: 'app-messaging-unlock',
  template: `
    <h1>Messages</h1>
    <section class="panel" aria-labelledby="unlock-heading">
      <h2 id="unlock-heading">Your messages are private</h2>
      <p>
        Messages are locked in your browser before they are sent, and only the people in the conversation can
        unlock them, not even Custos. To open them, your account signs a short text. Signing costs nothing and
        sends nothing.
      </p>
      <form (submit)="unlock($event)">
        @if (wallet.locked()) {
          <div class="field">
            <label for="unlock-passphrase">Your passphrase, to sign</label>
            <input
              #passphrase
              id="unlock-passphrase"
              type="password"
              autocomplete="current-password"
              data-testid="unlock-passphrase"
            />
          </div>
        } @else if (wallet.kind() === 'extension') {
          <p class="hint">Your wallet extension will ask you to sign (twice the first time).</p>
        }
        @if (error()) {
          <p class="form-error" role="alert" data-testid="unlock-error">{{ error() }}</p>
        }
        <p class="hint" role="status" data-testid="unlock-status">{{ status() }}</p>
        <div class="actions">
          <button type="submit" class="button--primary" data-testid="unlock-messages" [disabled]="busy()">
            {{ busy() ? 'Unlocking…' : 'Sign to unlock your private messages' }}
          </button>
        </div>
      </form>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MessagingUnlock {
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
        return 'First time here: sign once more to confirm this messaging key is yours.';
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
