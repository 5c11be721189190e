import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  InjectionToken,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { ContractTransactions } from '../core/contract-transactions';
import { Wallet } from '../core/wallet';
import { type ActionProgress, ActionProgressView } from '../shared/action-progress';
import { AddressChip } from '../shared/address-chip';
import { ConfirmDialog } from '../shared/confirm-dialog';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { WalletUnlock } from '../shared/wallet-unlock';
import { AdminApi, type ChainStatus, formatEth } from './admin-api';

/** How often the chain status refreshes while shown (ms; 0: never). */
export const CHAIN_STATUS_REFRESH = new InjectionToken<number>('CHAIN_STATUS_REFRESH', {
  providedIn: 'root',
  factory: () => 15_000,
});

/** Below this relayer balance (wei) the console warns: patients' consents stop being relayed at 0. */
export const LOW_RELAYER_BALANCE_WEI = 50_000_000_000_000_000n; // 0.05 ETH

/**
 * Chain health for the administrator (`GET /chain/status`): network, contract, latest block, the chain
 * mirror's lag, the relayer's balance (it pays the gas of patients' consents) and whether Custos is
 * paused; with Pause / Resume, confirmed first, sent from the administrator's own wallet.
 *
 * Test hooks: `chain-status`, `chain-status-loading`, `chain-status-error`, `chain-paused`
 * (`data-paused`), `relayer-balance`, `relayer-low`, `pause-button`, `unpause-button`,
 * `pause-dialog`, `pause-dialog-confirm`, `pause-passphrase`, `action-progress`.
 */
@Component({
  selector: 'app-chain-status-panel',
  imports: [AddressChip, ActionProgressView, ConfirmDialog, ErrorState, LoadingState, WalletUnlock],
  template: `
    <section class="panel" aria-labelledby="chain-status-heading">
      <h2 id="chain-status-heading">Chain health</h2>
      @if (status(); as s) {
        <dl class="facts" data-testid="chain-status">
          <dt>Custos</dt>
          <dd data-testid="chain-paused" [attr.data-paused]="s.paused">
            @switch (s.paused) {
              @case (true) {
                <span class="tag tag--denied">Paused</span> No consent, role change or emergency access can be
                made.
              }
              @case (false) {
                <span class="tag tag--ok">Running</span>
              }
              @default {
                <span class="tag">Unknown</span> The chain did not answer.
              }
            }
          </dd>
          <dt>Network</dt>
          <dd>Chain id {{ s.chainId }}</dd>
          <dt>Contract</dt>
          <dd>
            @if (s.contract) {
              <app-address-chip [address]="s.contract" testId="chain-contract" />
            } @else {
              None configured
            }
          </dd>
          <dt>Latest block</dt>
          <dd>{{ s.headBlock ?? 'unknown' }}</dd>
          <dt>Chain mirror</dt>
          <dd>
            {{ mirrorText() }}
          </dd>
          <dt>Relayer</dt>
          <dd>
            @if (s.relayer.address) {
              <app-address-chip [address]="s.relayer.address" testId="relayer-address" />
            }
            <span class="block" data-testid="relayer-balance">{{ balance() }}</span>
            @if (low()) {
              <span class="block form-error" data-testid="relayer-low">
                The relayer is running out of funds: patients' consents stop going through when it is empty.
              </span>
            }
          </dd>
        </dl>
        <p class="muted">Updated {{ updatedAt() }}.</p>
      } @else if (loadStatus() === 'loading') {
        <app-loading-state label="Reading the chain's health…" testId="chain-status-loading" />
      }
      @if (loadStatus() === 'error') {
        <app-error-state
          heading="The chain's health could not be read"
          [message]="error()"
          testId="chain-status-error"
          (retry)="load()"
        />
      }
      <div class="actions">
        <button type="button" (click)="load()" [disabled]="loadStatus() === 'loading'">Refresh</button>
        @if (status()?.paused === false) {
          <button
            type="button"
            class="button--danger"
            data-testid="pause-button"
            [disabled]="transactions.busy()"
            (click)="togglePause(true)"
          >
            Pause Custos
          </button>
        } @else if (status()?.paused === true) {
          <button
            type="button"
            class="button--primary"
            data-testid="unpause-button"
            [disabled]="transactions.busy()"
            (click)="togglePause(false)"
          >
            Resume Custos
          </button>
        }
      </div>
      @if (progress().step !== 'idle') {
        <app-action-progress [progress]="progress()" [confirmedText]="confirmedText()" (retry)="retry()" />
      }
      <app-confirm-dialog
        #confirm
        [heading]="target() ? 'Pause Custos?' : 'Resume Custos?'"
        [confirmLabel]="target() ? 'Pause' : 'Resume'"
        [tone]="target() ? 'danger' : 'default'"
        testId="pause-dialog"
      >
        @if (target()) {
          <p>
            While paused, nobody can grant or revoke consent, change roles or open emergency access. Access
            checks keep working. Resume when the incident is over.
          </p>
        } @else {
          <p>Consents, role changes and emergency access will work again.</p>
        }
        <app-wallet-unlock testId="pause-passphrase" />
      </app-confirm-dialog>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ChainStatusPanel {
  private readonly api = inject(AdminApi);
  protected readonly transactions = inject(ContractTransactions);
  private readonly wallet = inject(Wallet);
  private readonly confirm = viewChild.required<ConfirmDialog>('confirm');
  private readonly unlock = viewChild.required(WalletUnlock);
  private readonly abort = new AbortController();

  protected readonly status = signal<ChainStatus | null>(null);
  protected readonly loadStatus = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly updatedAt = signal('');
  protected readonly mirrorText = computed(() => {
    const m = this.status()?.mirror;
    if (!m) return 'Not running';
    const parts = [m.state];
    if (m.mirroredBlock !== null) parts.push(`at block ${m.mirroredBlock}`);
    if (m.lagBlocks !== null) parts.push(`${m.lagBlocks} ${m.lagBlocks === 1 ? 'block' : 'blocks'} behind`);
    return parts.join(', ');
  });
  protected readonly balance = computed(() => formatEth(this.status()?.relayer.balanceWei ?? null));
  protected readonly low = computed(() => {
    const wei = this.status()?.relayer.balanceWei;
    return wei !== null && wei !== undefined && BigInt(wei) < LOW_RELAYER_BALANCE_WEI;
  });

  /** `true`: pausing; `false`: resuming. */
  protected readonly target = signal(true);
  protected readonly progress = signal<ActionProgress>({ step: 'idle' });
  protected readonly confirmedText = computed(() =>
    this.target() ? 'Custos is paused.' : 'Custos is running again.',
  );

  constructor() {
    void this.load();
    const every = inject(CHAIN_STATUS_REFRESH);
    const timer = every > 0 ? setInterval(() => void this.load(true), every) : undefined;
    inject(DestroyRef).onDestroy(() => {
      clearInterval(timer);
      this.abort.abort();
    });
  }

  async load(quiet = false): Promise<void> {
    if (!quiet) this.loadStatus.set('loading');
    try {
      this.status.set(await this.api.chainStatus());
      this.updatedAt.set(new Date().toLocaleTimeString());
      this.loadStatus.set('ready');
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.loadStatus.set('error');
    }
  }

  protected async togglePause(pause: boolean): Promise<void> {
    this.target.set(pause);
    if (!(await this.confirm().open())) return;
    await this.send();
  }

  /** After a failure: ask again (for the passphrase too) when the wallet is locked, else send again. */
  protected retry(): void {
    if (this.wallet.locked()) void this.togglePause(this.target());
    else void this.send();
  }

  protected async send(): Promise<void> {
    if (this.transactions.busy()) return;
    const problem = await this.unlock().unlock();
    if (problem) {
      this.progress.set({ step: 'failed', reason: problem });
      return;
    }
    const pause = this.target();
    const receipt = await this.transactions.send(
      (abi) => abi.pauseData(pause),
      (p) => this.progress.set(p),
      this.abort.signal,
    );
    if (receipt) await this.load(true);
  }
}
