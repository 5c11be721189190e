import { ChangeDetectionStrategy, Component, type ElementRef, inject, input, viewChild } from '@angular/core';

import { Wallet, WalletError } from '../core/wallet';

let nextId = 0;

/**
 * What a form that signs needs from the person: their passphrase when the built-in wallet is locked
 * (after a reload), or a word that the wallet extension will ask. Call `unlock()` before signing: it
 * resolves `null` when ready to sign, else a message to show (and focuses the field).
 *
 * ```html
 * <app-wallet-unlock #unlock testId="admin-passphrase" />
 * ```
 * ```ts
 * const problem = await this.unlock().unlock();
 * if (problem) return this.error.set(problem);
 * ```
 */
@Component({
  selector: 'app-wallet-unlock',
  template: `
    @if (wallet.locked()) {
      <div class="field">
        <label [for]="id">Your passphrase, to sign</label>
        <input
          #passphrase
          [id]="id"
          type="password"
          autocomplete="current-password"
          [attr.data-testid]="testId()"
        />
      </div>
    } @else if (wallet.kind() === 'extension') {
      <p class="hint">{{ extensionHint() }}</p>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class WalletUnlock {
  /** `data-testid` of the passphrase field. */
  readonly testId = input('wallet-passphrase');
  /** What the wallet extension will ask, said when it is the one signing. */
  readonly extensionHint = input('Your wallet extension will ask you to confirm.');

  protected readonly wallet = inject(Wallet);
  protected readonly id = `wallet-unlock-${++nextId}`;
  private readonly passphrase = viewChild<ElementRef<HTMLInputElement>>('passphrase');

  /** Unlocks the built-in wallet with the passphrase typed, if it is locked. `null`: ready to sign. */
  async unlock(): Promise<string | null> {
    if (!this.wallet.locked()) return null;
    const field = this.passphrase()?.nativeElement;
    const passphrase = field?.value ?? '';
    if (!passphrase) {
      field?.focus();
      return 'Enter your passphrase to sign.';
    }
    try {
      await this.wallet.unlock(passphrase);
      return null;
    } catch (error) {
      field?.select();
      return error instanceof WalletError ? error.message : 'Could not unlock your account.';
    }
  }
}
