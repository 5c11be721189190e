import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  input,
  signal,
  viewChild,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { WalletError } from '../core/wallet';
import { WalletUnlock } from '../shared/wallet-unlock';
import { MessagingKeys } from './messaging-keys';

let nextId = 0;

/**
 * Before private messages or records can be opened: the wallet signs to unlock the encryption key
 * (one X25519 key pair for both, derived from the signature and never stored; the first time it signs
 * once more to register it, see `MessagingKeys.unlock`). With the built-in wallet locked (after a
 * reload), the passphrase is asked first. The explanation is projected; the rest of the wording comes
 * from the inputs.
 *
 * ```html
 * <app-encryption-key-unlock heading="Your records are encrypted" action="Sign to unlock your records"
 *   keyName="encryption key" testId="records-unlock">Records are encrypted in your browser…</app-encryption-key-unlock>
 * ```
 *
 * Test hooks: `<testId>-passphrase`, `<testId>-error`, `<testId>-status`, and the button's
 * `buttonTestId` (by default `testId`).
 */
@Component({
  selector: 'app-encryption-key-unlock',
  imports: [WalletUnlock],
  template: `
    <section class="panel" [attr.aria-labelledby]="headingId">
      <h2 [id]="headingId">{{ heading() }}</h2>
      <p><ng-content /></p>
      <form (submit)="unlock($event)">
        <app-wallet-unlock
          [testId]="testId() + '-passphrase'"
          extensionHint="Your wallet extension will ask you to sign (twice the first time)."
        />
        @if (error()) {
          <p class="form-error" role="alert" [attr.data-testid]="testId() + '-error'">{{ error() }}</p>
        }
        <p class="hint" role="status" [attr.data-testid]="testId() + '-status'">{{ status() }}</p>
        <div class="actions">
          <button
            type="submit"
            class="button--primary"
            [attr.data-testid]="buttonTestId() ?? testId()"
            [disabled]="busy()"
          >
            {{ busy() ? 'Unlocking…' : action() }}
          </button>
        </div>
      </form>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class EncryptionKeyUnlock {
  /** What is locked, e.g. `Your messages are private`. */
  readonly heading = input.required<string>();
  /** The button, e.g. `Sign to unlock your records`. */
  readonly action = input.required<string>();
  /** What the key is called on the second signature, e.g. `messaging key`. */
  readonly keyName = input.required<string>();
  /** Prefix of the test hooks. */
  readonly testId = input('unlock');
  /** `data-testid` of the button, when it is not `testId`. */
  readonly buttonTestId = input<string | null>(null);

  private readonly keys = inject(MessagingKeys);
  private readonly walletUnlock = viewChild.required(WalletUnlock);
  protected readonly headingId = `encryption-key-unlock-${++nextId}`;

  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly status = computed(() => {
    switch (this.keys.step()) {
      case 'deriving':
        return 'Waiting for your signature…';
      case 'registering':
        return `First time here: sign once more to confirm this ${this.keyName()} is yours.`;
      default:
        return '';
    }
  });

  protected async unlock(event: Event): Promise<void> {
    event.preventDefault();
    if (this.busy()) return;
    this.busy.set(true);
    try {
      const problem = await this.walletUnlock().unlock();
      if (problem) {
        this.error.set(problem);
        return;
      }
      this.error.set(null);
      await this.keys.unlock();
    } catch (error) {
      this.error.set(error instanceof WalletError ? error.message : toApiError(error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
