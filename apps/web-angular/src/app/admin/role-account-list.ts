import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  inject,
  input,
  signal,
  viewChild,
} from '@angular/core';

import { sameAddress, shortAddress } from '../core/address';
import { toApiError } from '../core/api-client';
import { ContractTransactions } from '../core/contract-transactions';
import { Session } from '../core/session';
import { Wallet } from '../core/wallet';
import { type ActionProgress, ActionProgressView } from '../shared/action-progress';
import { AddressChip } from '../shared/address-chip';
import { ConfirmDialog } from '../shared/confirm-dialog';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { WalletUnlock } from '../shared/wallet-unlock';
import {
  AdminApi,
  type DirectoryAccount,
  type ManagedRole,
  NAME_MAX_LENGTH,
  SPECIALTY_MAX_LENGTH,
} from './admin-api';
import { RoleDirectory } from './role-directory';
import { roleInfo } from './role-info';

/**
 * The accounts holding one role, with their profiles: edit a profile (`PUT /directory/:address/profile`)
 * and, for the roles managed here, remove an account (`revokeRole` from the administrator's wallet,
 * after a confirmation).
 *
 * Test hooks (`<role>` is provider, emergency, auditor or admin): `role-list-<role>`,
 * `role-row-<role>` (`data-address`), `role-empty-<role>`, `role-loading-<role>`, `role-error-<role>`,
 * `role-remove`, `remove-dialog`, `remove-dialog-confirm`, `role-edit`, `profile-name`,
 * `profile-specialty`, `profile-save`, `profile-error`, `role-remove-status`.
 */
@Component({
  selector: 'app-role-account-list',
  imports: [
    AddressChip,
    ActionProgressView,
    ConfirmDialog,
    EmptyState,
    ErrorState,
    LoadingState,
    WalletUnlock,
  ],
  template: `
    @let l = list();
    @let r = info();
    <section
      class="section"
      [attr.aria-labelledby]="'role-heading-' + role()"
      [attr.data-testid]="'role-list-' + role()"
    >
      <h2 [id]="'role-heading-' + role()">
        {{ r.plural }}
        @if (l.status === 'ready') {
          <span class="count">({{ l.accounts.length }})</span>
        }
      </h2>
      <p class="hint">{{ r.description }}</p>
      @switch (l.status) {
        @case ('loading') {
          <app-loading-state
            [label]="'Loading ' + r.plural.toLowerCase() + '…'"
            [testId]="'role-loading-' + role()"
          />
        }
        @case ('error') {
          <app-error-state
            [heading]="r.plural + ' could not be loaded'"
            [message]="l.error"
            [testId]="'role-error-' + role()"
            (retry)="reload()"
          />
        }
        @default {
          @if (l.accounts.length === 0) {
            <app-empty-state
              [heading]="'No ' + r.plural.toLowerCase() + ' yet.'"
              [testId]="'role-empty-' + role()"
            >
              @if (r.managed) {
                Register one with the form above.
              }
            </app-empty-state>
          } @else {
            <ul class="card-list">
              @for (account of l.accounts; track account.address) {
                <li
                  class="card"
                  [attr.data-testid]="'role-row-' + role()"
                  [attr.data-address]="account.address"
                >
                  @if (editing() === account.address) {
                    <form
                      (submit)="saveProfile($event, account)"
                      [attr.aria-label]="'Profile of ' + short(account.address)"
                    >
                      <div class="filters__grid">
                        <div class="field">
                          <label [for]="'profile-name-' + role() + account.address">Name</label>
                          <input
                            [id]="'profile-name-' + role() + account.address"
                            data-testid="profile-name"
                            required
                            [maxLength]="nameMax"
                            [value]="draftName()"
                            (input)="draftName.set(value($event))"
                          />
                        </div>
                        <div class="field">
                          <label [for]="'profile-specialty-' + role() + account.address">Specialty</label>
                          <input
                            [id]="'profile-specialty-' + role() + account.address"
                            data-testid="profile-specialty"
                            [maxLength]="specialtyMax"
                            [value]="draftSpecialty()"
                            (input)="draftSpecialty.set(value($event))"
                          />
                        </div>
                      </div>
                      @if (profileError()) {
                        <p class="form-error" role="alert" data-testid="profile-error">
                          {{ profileError() }}
                        </p>
                      }
                      <div class="actions">
                        <button
                          type="submit"
                          class="button--primary"
                          data-testid="profile-save"
                          [disabled]="saving()"
                        >
                          {{ saving() ? 'Saving…' : 'Save profile' }}
                        </button>
                        <button type="button" (click)="editing.set(null)">Cancel</button>
                      </div>
                    </form>
                  } @else {
                    <p class="card__title">
                      {{ account.name || 'No name set' }}
                      @if (account.specialty) {
                        <span class="card__subtitle">{{ account.specialty }}</span>
                      }
                    </p>
                    <p class="card__line">
                      <app-address-chip [address]="account.address" [testId]="'role-address-' + role()" />
                      @if (isMe(account.address)) {
                        <span class="tag">You</span>
                      }
                    </p>
                    <div class="actions">
                      @if (role() !== 'admin') {
                        <button type="button" data-testid="role-edit" (click)="edit(account)">
                          Edit profile<span class="visually-hidden"> of {{ short(account.address) }}</span>
                        </button>
                      }
                      @if (r.managed) {
                        <button
                          type="button"
                          class="button--danger"
                          data-testid="role-remove"
                          [disabled]="transactions.busy()"
                          (click)="remove(account)"
                        >
                          Remove<span class="visually-hidden">
                            {{ short(account.address) }} as {{ r.singular }}</span
                          >
                        </button>
                      }
                    </div>
                  }
                </li>
              }
            </ul>
          }
        }
      }
      @if (removing(); as target) {
        <app-action-progress
          [progress]="progress()"
          [confirmedText]="short(target.address) + ' is no longer ' + article() + ' ' + r.singular + '.'"
          (retry)="retry()"
        />
        @if (removeStatus(); as status) {
          <p
            class="notice notice--info"
            role="status"
            data-testid="role-remove-status"
            [attr.data-state]="status"
          >
            {{
              status === 'waiting'
                ? 'Waiting for Custos to see the change on the chain…'
                : status === 'gone'
                  ? 'Removed from the list.'
                  : 'The chain has the change, but Custos has not updated the list yet. Reload in a minute.'
            }}
          </p>
        }
      }
      <app-confirm-dialog
        #confirm
        [heading]="'Remove ' + (candidate() ? short(candidate()!.address) : '') + ' as ' + r.singular + '?'"
        confirmLabel="Remove"
        tone="danger"
        testId="remove-dialog"
      >
        <p>
          {{ candidate()?.name || 'This account' }} loses the {{ r.singular }} role at once: every access that
          comes with it stops. You can register them again later.
        </p>
        <app-wallet-unlock testId="remove-passphrase" />
      </app-confirm-dialog>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RoleAccountList {
  readonly role = input.required<ManagedRole>();

  protected readonly transactions = inject(ContractTransactions);
  private readonly directory = inject(RoleDirectory);
  private readonly api = inject(AdminApi);
  private readonly session = inject(Session);
  private readonly wallet = inject(Wallet);
  private readonly confirm = viewChild.required<ConfirmDialog>('confirm');
  private readonly unlock = viewChild.required(WalletUnlock);
  private readonly abort = new AbortController();

  protected readonly nameMax = NAME_MAX_LENGTH;
  protected readonly specialtyMax = SPECIALTY_MAX_LENGTH;
  protected readonly info = computed(() => roleInfo(this.role()));
  protected readonly list = computed(() => this.directory.list(this.role())());
  protected readonly article = computed(() => (/^[aeiou]/i.test(this.info().singular) ? 'an' : 'a'));

  protected readonly editing = signal<string | null>(null);
  protected readonly draftName = signal('');
  protected readonly draftSpecialty = signal('');
  protected readonly saving = signal(false);
  protected readonly profileError = signal<string | null>(null);

  protected readonly candidate = signal<DirectoryAccount | null>(null);
  protected readonly removing = signal<DirectoryAccount | null>(null);
  protected readonly progress = signal<ActionProgress>({ step: 'idle' });
  protected readonly removeStatus = signal<'waiting' | 'gone' | 'still-listed' | null>(null);

  protected readonly short = shortAddress;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.abort.abort());
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected isMe(address: string): boolean {
    return sameAddress(address, this.session.address());
  }

  protected reload(): void {
    void this.directory.load(this.role());
  }

  protected edit(account: DirectoryAccount): void {
    this.draftName.set(account.name ?? '');
    this.draftSpecialty.set(account.specialty ?? '');
    this.profileError.set(null);
    this.editing.set(account.address);
  }

  protected async saveProfile(event: Event, account: DirectoryAccount): Promise<void> {
    event.preventDefault();
    const name = this.draftName().trim();
    if (!name) {
      this.profileError.set('Give a name.');
      return;
    }
    this.saving.set(true);
    this.profileError.set(null);
    try {
      await this.api.setProfile(account.address, name, this.draftSpecialty().trim());
      this.editing.set(null);
      await this.directory.load(this.role(), true).catch(() => undefined);
    } catch (error) {
      this.profileError.set(toApiError(error).message);
    } finally {
      this.saving.set(false);
    }
  }

  protected async remove(account: DirectoryAccount): Promise<void> {
    this.candidate.set(account);
    if (!(await this.confirm().open())) return;
    this.removing.set(account);
    await this.send();
  }

  /** After a failure: ask again (for the passphrase too) when the wallet is locked, else send again. */
  protected retry(): void {
    const account = this.removing();
    if (!account) return;
    if (this.wallet.locked()) void this.remove(account);
    else void this.send();
  }

  /** Sends the removal of `removing()`. */
  protected async send(): Promise<void> {
    const account = this.removing();
    if (!account || this.transactions.busy()) return;
    this.removeStatus.set(null);
    const problem = await this.unlock().unlock();
    if (problem) {
      this.progress.set({ step: 'failed', reason: problem });
      return;
    }
    const role = this.role();
    const receipt = await this.transactions.send(
      (abi) => abi.revokeRoleData(role, account.address),
      (p) => this.progress.set(p),
      this.abort.signal,
    );
    if (!receipt) return;
    this.removeStatus.set('waiting');
    const gone = await this.directory.waitFor(role, account.address, false);
    if (!this.abort.signal.aborted) this.removeStatus.set(gone ? 'gone' : 'still-listed');
  }
}
