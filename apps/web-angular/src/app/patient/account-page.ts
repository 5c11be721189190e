import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  inject,
  signal,
  viewChild,
} from '@angular/core';

import { Session } from '../core/session';
import { Wallet, WalletError } from '../core/wallet';
import { AddressChip } from '../shared/address-chip';

/**
 * The signed-in account: its address, how it signs, and (built-in wallet) the recovery phrase to
 * back up, shown only after the passphrase is entered again.
 */
@Component({
  selector: 'app-account-page',
  imports: [AddressChip],
  template: `
    <h1>Your account</h1>
    <dl class="facts">
      <dt>Account</dt>
      <dd><app-address-chip [address]="session.address() ?? ''" testId="account-address" /></dd>
      <dt>Signs with</dt>
      <dd data-testid="account-wallet-kind">
        {{
          wallet.kind() === 'extension' ? 'Your browser wallet extension' : 'This browser (Custos account)'
        }}
      </dd>
    </dl>

    @if (wallet.kind() === 'extension') {
      <p>Your recovery phrase is kept by your wallet extension: back it up there.</p>
    } @else {
      <section class="section" aria-labelledby="backup-heading">
        <h2 id="backup-heading">Back up your recovery phrase</h2>
        <p>
          These 12 words are the only way to get your account back on another device or if this browser's data
          is deleted. Write them down and keep them somewhere safe. Anyone who has them can act as you.
        </p>
        @if (phrase(); as words) {
          <ol class="phrase" data-testid="account-recovery-phrase" aria-label="Your recovery phrase">
            @for (word of words; track $index) {
              <li>{{ word }}</li>
            }
          </ol>
          <div class="actions">
            <button type="button" data-testid="account-hide-phrase" (click)="phrase.set(null)">
              Hide the words
            </button>
          </div>
        } @else {
          <form class="form" (submit)="reveal($event)">
            <div class="field">
              <label for="account-passphrase">Your passphrase</label>
              <input
                #passphrase
                id="account-passphrase"
                type="password"
                autocomplete="current-password"
                required
                data-testid="account-passphrase"
              />
            </div>
            @if (error()) {
              <p class="form-error" role="alert" data-testid="account-error">{{ error() }}</p>
            }
            <div class="actions">
              <button
                type="submit"
                class="button--primary"
                data-testid="account-show-phrase"
                [disabled]="busy()"
              >
                {{ busy() ? 'Checking…' : 'Show my recovery phrase' }}
              </button>
            </div>
          </form>
        }
      </section>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AccountPage {
  protected readonly session = inject(Session);
  protected readonly wallet = inject(Wallet);
  protected readonly phrase = signal<readonly string[] | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly busy = signal(false);
  private readonly passphrase = viewChild<ElementRef<HTMLInputElement>>('passphrase');

  protected async reveal(event: Event): Promise<void> {
    event.preventDefault();
    const input = this.passphrase()?.nativeElement;
    this.busy.set(true);
    this.error.set(null);
    try {
      const phrase = await this.wallet.revealPhrase(input?.value ?? '');
      this.phrase.set(phrase.split(' '));
    } catch (error) {
      this.error.set(error instanceof WalletError ? error.message : 'Could not read your account.');
      input?.select();
    } finally {
      this.busy.set(false);
    }
  }
}
