import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';

import { shortAddress } from '../core/address';
import { toApiError } from '../core/api-client';
import { ContractTransactions } from '../core/contract-transactions';
import { type ActionProgress, ActionProgressView } from '../shared/action-progress';
import { WalletUnlock } from '../shared/wallet-unlock';
import { AdminApi, type ManagedRole, NAME_MAX_LENGTH, SPECIALTY_MAX_LENGTH } from './admin-api';
import { RoleDirectory } from './role-directory';
import { MANAGED_ROLES, roleInfo } from './role-info';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** After the transaction: the chain mirror picking the account up, then its profile being saved. */
type Follow = 'waiting' | 'listed' | 'profile-saved' | 'not-listed' | 'profile-failed';

/**
 * Registers an account as provider, emergency staff member or auditor: the administrator's own
 * wallet sends `grantRole(role, account)` to the contract (Signed → Sent → Confirmed), then the list
 * is polled until the chain mirror shows the account, and the optional name and specialty are saved
 * as its profile (`PUT /directory/:address/profile`).
 *
 * Test hooks: `admin-role-select`, `admin-account-input`, `admin-name-input`, `admin-specialty-input`,
 * `admin-passphrase`, `admin-register-button`, `admin-register-error`, `action-progress` (`data-step`),
 * `admin-register-status` (`data-state`).
 */
@Component({
  selector: 'app-role-registration',
  imports: [ActionProgressView, WalletUnlock],
  template: `
    <section class="panel" aria-labelledby="register-heading">
      <h2 id="register-heading">Register an account</h2>
      <form (submit)="register($event)" novalidate>
        <div class="filters__grid">
          <div class="field">
            <label for="register-role">Role</label>
            <select
              id="register-role"
              data-testid="admin-role-select"
              [value]="role()"
              (change)="role.set(selected($event))"
            >
              @for (r of roles; track r.role) {
                <option [value]="r.role">{{ r.plural }}</option>
              }
            </select>
            <p class="hint">{{ info().description }}</p>
          </div>
          <div class="field">
            <label for="register-account">Account address</label>
            <input
              id="register-account"
              data-testid="admin-account-input"
              autocomplete="off"
              spellcheck="false"
              placeholder="0x…"
              [value]="account()"
              (input)="account.set(value($event))"
            />
          </div>
          <div class="field">
            <label for="register-name">Name <span class="muted">(optional)</span></label>
            <input
              id="register-name"
              data-testid="admin-name-input"
              autocomplete="off"
              [maxLength]="nameMax"
              [value]="name()"
              (input)="name.set(value($event))"
            />
          </div>
          <div class="field">
            <label for="register-specialty">Specialty <span class="muted">(optional)</span></label>
            <input
              id="register-specialty"
              data-testid="admin-specialty-input"
              autocomplete="off"
              [maxLength]="specialtyMax"
              [value]="specialty()"
              (input)="specialty.set(value($event))"
            />
          </div>
        </div>
        <app-wallet-unlock testId="admin-passphrase" />
        @if (formError()) {
          <p class="form-error" role="alert" data-testid="admin-register-error">{{ formError() }}</p>
        }
        <div class="actions">
          <button
            type="submit"
            class="button--primary"
            data-testid="admin-register-button"
            [disabled]="transactions.busy()"
          >
            Register as {{ info().singular }}
          </button>
        </div>
      </form>
      @if (progress().step !== 'idle') {
        <app-action-progress [progress]="progress()" [confirmedText]="confirmedText()" (retry)="send()" />
      }
      @if (follow(); as state) {
        <p
          class="notice notice--info"
          role="status"
          data-testid="admin-register-status"
          [attr.data-state]="state"
        >
          @switch (state) {
            @case ('waiting') {
              Waiting for Custos to see the change on the chain…
            }
            @case ('listed') {
              {{ done()?.short }} is now listed as {{ done()?.role }}.
            }
            @case ('profile-saved') {
              {{ done()?.short }} is now listed as {{ done()?.role }}, with their name and specialty.
            }
            @case ('not-listed') {
              The chain has the change, but Custos has not listed it yet. Reload this page in a minute.
            }
            @case ('profile-failed') {
              {{ done()?.short }} is listed, but their profile was not saved: {{ profileError() }}
            }
          }
        </p>
      }
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RoleRegistration {
  protected readonly transactions = inject(ContractTransactions);
  private readonly directory = inject(RoleDirectory);
  private readonly api = inject(AdminApi);
  private readonly abort = new AbortController();
  private readonly unlock = viewChild.required(WalletUnlock);

  protected readonly roles = MANAGED_ROLES;
  protected readonly nameMax = NAME_MAX_LENGTH;
  protected readonly specialtyMax = SPECIALTY_MAX_LENGTH;
  protected readonly role = signal<ManagedRole>('provider');
  protected readonly account = signal('');
  protected readonly name = signal('');
  protected readonly specialty = signal('');
  protected readonly formError = signal<string | null>(null);
  protected readonly progress = signal<ActionProgress>({ step: 'idle' });
  protected readonly follow = signal<Follow | null>(null);
  protected readonly profileError = signal<string | null>(null);
  protected readonly done = signal<{ short: string; role: string } | null>(null);
  protected readonly info = computed(() => roleInfo(this.role()));
  protected readonly confirmedText = computed(() => `Registered as ${this.pending()?.singular ?? 'asked'}.`);

  /** What the running registration is for (the form may change meanwhile). */
  private readonly pending = signal<{
    role: ManagedRole;
    account: string;
    name: string;
    specialty: string;
    singular: string;
  } | null>(null);

  constructor() {
    inject(DestroyRef).onDestroy(() => this.abort.abort());
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected selected(event: Event): ManagedRole {
    return (event.target as HTMLSelectElement).value as ManagedRole;
  }

  protected async register(event: Event): Promise<void> {
    event.preventDefault();
    if (this.transactions.busy()) return;
    const account = this.account().trim();
    const role = this.role();
    const name = this.name().trim();
    const specialty = this.specialty().trim();
    if (!ADDRESS.test(account)) return this.fail('Enter the account’s address: 0x and 40 hex digits.');
    if (specialty && !name) return this.fail('Give a name with the specialty, or leave both empty.');
    if (this.directory.holds(role, account)) {
      return this.fail(`${shortAddress(account)} is already registered as ${roleInfo(role).singular}.`);
    }
    this.pending.set({ role, account, name, specialty, singular: roleInfo(role).singular });
    await this.send();
  }

  /** Sends the pending registration (again, after a failure). */
  protected async send(): Promise<void> {
    const pending = this.pending();
    if (!pending || this.transactions.busy()) return;
    const problem = await this.unlock().unlock();
    if (problem) return this.fail(problem);
    this.formError.set(null);
    this.follow.set(null);
    this.done.set(null);
    const receipt = await this.transactions.send(
      (abi) => abi.grantRoleData(pending.role, pending.account),
      (p) => this.progress.set(p),
      this.abort.signal,
    );
    if (!receipt) return;
    this.follow.set('waiting');
    const listed = await this.directory.waitFor(pending.role, pending.account, true);
    if (this.abort.signal.aborted) return;
    this.done.set({ short: shortAddress(pending.account), role: pending.singular });
    if (!listed) {
      this.follow.set('not-listed');
      return;
    }
    if (!pending.name) {
      this.follow.set('listed');
    } else {
      try {
        await this.api.setProfile(pending.account, pending.name, pending.specialty);
        await this.directory.load(pending.role, true).catch(() => undefined);
        this.follow.set('profile-saved');
      } catch (error) {
        this.profileError.set(toApiError(error).message);
        this.follow.set('profile-failed');
        return;
      }
    }
    this.account.set('');
    this.name.set('');
    this.specialty.set('');
  }

  private fail(message: string): void {
    this.formError.set(message);
  }
}
