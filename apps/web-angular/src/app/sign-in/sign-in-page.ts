import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  Injector,
  afterNextRender,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRoute, Router } from '@angular/router';

import { ApiError } from '../core/api-client';
import { safeReturnUrl } from '../core/auth-guards';
import { type Role, Session } from '../core/session';
import { SignIn } from '../core/sign-in';
import { MIN_PASSPHRASE_LENGTH, Wallet, WalletError } from '../core/wallet';
import { AddressChip } from '../shared/address-chip';

type Mode = 'choose' | 'create' | 'backup' | 'import';

/**
 * Sign in: unlock the account kept in this browser, use a wallet extension, create an account (and
 * write down its recovery phrase) or restore one from its recovery phrase. Then the account signs
 * the sign-in message (no prompt for the built-in account) and the user goes back to `returnUrl`.
 */
@Component({
  selector: 'app-sign-in-page',
  imports: [AddressChip],
  templateUrl: './sign-in-page.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SignInPage {
  private readonly query = toSignal(inject(ActivatedRoute).queryParamMap);
  /** Query parameter: where to go once signed in (a path of this app). */
  private readonly returnUrl = computed(() => this.query()?.get('returnUrl') ?? undefined);
  /** Query parameter: `expired` when the session ended on its own. */
  private readonly reason = computed(() => this.query()?.get('reason') ?? undefined);

  protected readonly session = inject(Session);
  protected readonly wallet = inject(Wallet);
  private readonly signIn = inject(SignIn);
  private readonly router = inject(Router);
  private readonly injector = inject(Injector);

  protected readonly minLength = MIN_PASSPHRASE_LENGTH;
  protected readonly mode = signal<Mode>('choose');
  protected readonly working = signal('');
  protected readonly error = signal<string | null>(null);
  protected readonly storedLoaded = signal(false);
  protected readonly phraseWords = signal<readonly string[]>([]);
  protected readonly backupConfirmed = signal(false);
  protected readonly hasExtension = computed(() => this.storedLoaded() && this.wallet.hasExtension());
  protected readonly expired = computed(() => this.reason() === 'expired' && !this.session.signedIn());

  private readonly modeHeading = viewChild<ElementRef<HTMLElement>>('modeHeading');

  constructor() {
    void this.wallet.loadStored().finally(() => this.storedLoaded.set(true));
  }

  protected go(mode: Mode): void {
    this.error.set(null);
    this.mode.set(mode);
    afterNextRender(() => this.modeHeading()?.nativeElement.focus(), { injector: this.injector });
  }

  protected async unlock(event: Event, passphrase: string): Promise<void> {
    event.preventDefault();
    await this.attempt('Signing you in…', async () => {
      await this.wallet.unlock(passphrase);
      await this.signInAndLeave();
    });
  }

  protected async useExtension(): Promise<void> {
    await this.attempt('Confirm in your wallet extension…', async () => {
      await this.wallet.connectExtension();
      await this.signInAndLeave();
    });
  }

  protected async create(event: Event, passphrase: string, again: string): Promise<void> {
    event.preventDefault();
    if (!this.checkPassphrases(passphrase, again)) return;
    await this.attempt('Creating your account…', async () => {
      const { phrase } = await this.wallet.create(passphrase);
      this.phraseWords.set(phrase.split(' '));
      this.backupConfirmed.set(false);
      this.go('backup');
    });
  }

  protected async finishCreate(): Promise<void> {
    await this.attempt('Signing you in…', () => this.signInAndLeave());
  }

  protected async restore(
    event: Event,
    phrase: string,
    passphrase: string,
    again: string,
    accountNumber: string,
  ): Promise<void> {
    event.preventDefault();
    if (!this.checkPassphrases(passphrase, again)) return;
    const index = accountNumber.trim() === '' ? 0 : Number(accountNumber);
    await this.attempt('Restoring your account…', async () => {
      await this.wallet.importPhrase(phrase, passphrase, index);
      this.working.set('Signing you in…');
      await this.signInAndLeave();
    });
  }

  protected async signOut(): Promise<void> {
    await this.session.signOut();
    this.mode.set('choose');
  }

  protected continue(): void {
    void this.router.navigateByUrl(this.destination());
  }

  private checkPassphrases(passphrase: string, again: string): boolean {
    if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
      this.error.set(`Choose a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters.`);
      return false;
    }
    if (passphrase !== again) {
      this.error.set('The two passphrases are different. Type the same one twice.');
      return false;
    }
    return true;
  }

  private async signInAndLeave(): Promise<void> {
    await this.signIn.signIn();
    await this.router.navigateByUrl(this.destination());
  }

  /** `returnUrl` when it is a page of this app, else the area of the account's main role. */
  private destination(): string {
    const back = safeReturnUrl(this.returnUrl());
    if (back) return back;
    const home: [Role, string][] = [
      ['admin', '/admin'],
      ['auditor', '/compliance'],
      ['provider', '/provider'],
    ];
    return home.find(([role]) => this.session.hasRole(role))?.[1] ?? '/patient';
  }

  private async attempt(working: string, action: () => Promise<void>): Promise<void> {
    if (this.working()) return;
    this.error.set(null);
    this.working.set(working);
    try {
      await action();
    } catch (error) {
      this.error.set(
        error instanceof WalletError || error instanceof ApiError
          ? error.message
          : 'Something went wrong. Try again.',
      );
    } finally {
      this.working.set('');
    }
  }
}
