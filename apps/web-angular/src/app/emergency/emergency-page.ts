import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { RouterLink } from '@angular/router';

import { shortAddress } from '../core/address';
import { toApiError } from '../core/api-client';
import { ChainRpc } from '../core/chain-rpc';
import { ContractTransactions, loadContractAbi } from '../core/contract-transactions';
import { Session } from '../core/session';
import { Wallet } from '../core/wallet';
import { type ActionProgress, ActionProgressView } from '../shared/action-progress';
import { AddressChip } from '../shared/address-chip';
import { ConfirmDialog } from '../shared/confirm-dialog';
import { DateTimePipe, timeLeft } from '../shared/time-left';
import { WalletUnlock } from '../shared/wallet-unlock';
import { EmergencyApi, REASON_MAX_LENGTH, REASON_MIN_LENGTH } from './emergency-api';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** An emergency window this person opened. */
interface OpenWindow {
  readonly patient: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  readonly reasonHash: string;
}

/**
 * Break-glass access for emergency staff: with a MANDATORY reason, recorded off-chain first
 * (`POST /emergency/reasons`, which audits it and tells the patient) and checked here against its
 * hash; then the staff member's own wallet sends `emergencyAccess(patient, reasonHash)` to the
 * contract. The window (24 hours) and its expiry are shown once confirmed.
 *
 * Test hooks: `emergency-patient`, `emergency-reason`, `emergency-reason-count`, `emergency-passphrase`,
 * `emergency-error`, `emergency-submit`, `emergency-dialog`, `emergency-dialog-confirm`,
 * `action-progress` (`data-step`), `emergency-window` (`data-expires-at`), `emergency-expiry`,
 * `emergency-records`.
 */
@Component({
  selector: 'app-emergency-page',
  imports: [ActionProgressView, AddressChip, ConfirmDialog, DateTimePipe, RouterLink, WalletUnlock],
  template: `
    <h1>Emergency access</h1>
    <p class="lede">
      When a patient needs care and cannot give consent, you can open access to all their records for 24
      hours. You must say why: your reason is recorded, the patient is told at once, and compliance officers
      review every emergency access.
    </p>

    <form class="panel" (submit)="review($event)" novalidate aria-labelledby="emergency-form-heading">
      <h2 id="emergency-form-heading">Open emergency access</h2>
      <div class="field">
        <label for="emergency-patient">Patient's address</label>
        <input
          id="emergency-patient"
          data-testid="emergency-patient"
          autocomplete="off"
          spellcheck="false"
          placeholder="0x…"
          required
          [value]="patient()"
          (input)="patient.set(value($event))"
        />
      </div>
      <div class="field">
        <label for="emergency-reason">Reason (required)</label>
        <textarea
          id="emergency-reason"
          data-testid="emergency-reason"
          rows="4"
          required
          aria-describedby="emergency-reason-hint"
          [attr.maxlength]="maxLength"
          [value]="reason()"
          (input)="reason.set(value($event))"
        ></textarea>
        <p id="emergency-reason-hint" class="hint">
          What happened and why you need the records now, in at least {{ minLength }} characters. Do not write
          anything you would not want the patient to read.
          <span data-testid="emergency-reason-count">{{ reasonLength() }} / {{ maxLength }}</span>
        </p>
      </div>
      <app-wallet-unlock testId="emergency-passphrase" />
      @if (formError()) {
        <p class="form-error" role="alert" data-testid="emergency-error">{{ formError() }}</p>
      }
      <div class="actions">
        <button
          type="submit"
          class="button--danger"
          data-testid="emergency-submit"
          [disabled]="transactions.busy() || working()"
        >
          Open emergency access
        </button>
      </div>
    </form>

    @if (progress().step !== 'idle') {
      <app-action-progress
        [progress]="progress()"
        confirmedText="Emergency access is open."
        (retry)="retry()"
      />
    }

    @if (opened(); as w) {
      <section
        class="panel banner--emergency"
        role="status"
        data-testid="emergency-window"
        [attr.data-expires-at]="w.expiresAt"
        aria-labelledby="emergency-window-heading"
      >
        <h2 id="emergency-window-heading">Emergency access is open</h2>
        <p>
          You can access every record of
          <app-address-chip [address]="w.patient" testId="emergency-window-patient" /> until
          <strong data-testid="emergency-expiry">{{ w.expiresAt | dateTime }}</strong> ({{ left() }}).
        </p>
        <p>
          <a [routerLink]="['/emergency', 'patients', w.patient, 'records']" data-testid="emergency-records"
            >See their records</a
          >
        </p>
        <p class="muted mono">Reason hash {{ w.reasonHash }}</p>
      </section>
    }

    <app-confirm-dialog
      #confirm
      heading="Open emergency access?"
      confirmLabel="Open access"
      tone="danger"
      testId="emergency-dialog"
    >
      <p>
        You are about to open access to all records of {{ short(pendingPatient()) }} for 24 hours, for this
        reason:
      </p>
      <blockquote class="quote">{{ pendingReason() }}</blockquote>
      <p>It is recorded with your name, and the patient is notified.</p>
    </app-confirm-dialog>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class EmergencyPage {
  protected readonly transactions = inject(ContractTransactions);
  private readonly api = inject(EmergencyApi);
  private readonly rpc = inject(ChainRpc);
  private readonly session = inject(Session);
  private readonly wallet = inject(Wallet);
  private readonly confirm = viewChild.required<ConfirmDialog>('confirm');
  private readonly unlock = viewChild.required(WalletUnlock);
  private readonly abort = new AbortController();

  protected readonly minLength = REASON_MIN_LENGTH;
  protected readonly maxLength = REASON_MAX_LENGTH;
  protected readonly patient = signal('');
  protected readonly reason = signal('');
  protected readonly reasonLength = computed(() => this.reason().trim().length);
  protected readonly formError = signal<string | null>(null);
  protected readonly working = signal(false);
  protected readonly progress = signal<ActionProgress>({ step: 'idle' });
  protected readonly opened = signal<OpenWindow | null>(null);
  protected readonly pendingPatient = signal('');
  protected readonly pendingReason = signal('');
  private readonly now = signal(Date.now());
  protected readonly left = computed(() => {
    const w = this.opened();
    return w ? timeLeft(w.expiresAt, this.now()) : '';
  });
  protected readonly short = shortAddress;

  /** The reason already recorded for this patient and text (a retry does not record it again). */
  private declared: { patient: string; reason: string; hash: string } | null = null;

  constructor() {
    const timer = setInterval(() => this.now.set(Date.now()), 30_000);
    inject(DestroyRef).onDestroy(() => {
      clearInterval(timer);
      this.abort.abort();
    });
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement | HTMLTextAreaElement).value;
  }

  /** Checks the form, unlocks the wallet if needed, asks for confirmation, then opens access. */
  protected async review(event: Event): Promise<void> {
    event.preventDefault();
    if (this.transactions.busy() || this.working()) return;
    const patient = this.patient().trim();
    const reason = this.reason().trim();
    if (!ADDRESS.test(patient)) return this.fail('Enter the patient’s address: 0x and 40 hex digits.');
    if (reason.length < REASON_MIN_LENGTH) {
      return this.fail(`Give the reason in at least ${REASON_MIN_LENGTH} characters.`);
    }
    if (reason.length > REASON_MAX_LENGTH) {
      return this.fail(`Keep the reason under ${REASON_MAX_LENGTH} characters.`);
    }
    const problem = await this.unlock().unlock();
    if (problem) return this.fail(problem);
    this.formError.set(null);
    this.pendingPatient.set(patient);
    this.pendingReason.set(reason);
    if (!(await this.confirm().open())) return;
    await this.open();
  }

  protected async retry(): Promise<void> {
    const problem = await this.unlock().unlock();
    if (problem) {
      this.progress.set({ step: 'failed', reason: problem });
      return;
    }
    await this.open();
  }

  private async open(): Promise<void> {
    const patient = this.pendingPatient();
    const reason = this.pendingReason();
    const me = this.session.address();
    if (!patient || !reason || !me || this.working()) return;
    this.working.set(true);
    this.opened.set(null);
    try {
      this.progress.set({ step: 'signing', inExtension: this.wallet.kind() === 'extension' });
      const hash = await this.recordReason(patient, reason);
      if (!hash) return;
      const receipt = await this.transactions.send(
        (abi) => abi.emergencyAccessData(patient, hash),
        (p) => this.progress.set(p),
        this.abort.signal,
      );
      if (!receipt) return;
      const abi = await loadContractAbi();
      let expiresAt = abi.emergencyStarted(receipt.logs)?.expiresAt ?? 0;
      if (!expiresAt) {
        const result = await this.rpc
          .call<string>('eth_call', [
            { to: receipt.to, data: abi.emergencyExpiryData(patient, me) },
            'latest',
          ])
          .catch(() => null);
        expiresAt = result ? abi.decodeEmergencyExpiry(result) : 0;
      }
      this.now.set(Date.now());
      this.opened.set({ patient: patient.toLowerCase(), expiresAt, reasonHash: hash });
      this.declared = null;
      this.patient.set('');
      this.reason.set('');
    } finally {
      this.working.set(false);
    }
  }

  /** Records the reason (once per patient and text) and checks the hash the API answers. */
  private async recordReason(patient: string, reason: string): Promise<string | null> {
    const kept = this.declared;
    if (kept && kept.patient === patient.toLowerCase() && kept.reason === reason) return kept.hash;
    try {
      const { reasonHash } = await this.api.declareReason(patient, reason);
      const abi = await loadContractAbi();
      if (abi.reasonHash(reason) !== reasonHash.toLowerCase()) {
        this.progress.set({
          step: 'failed',
          reason: 'Custos recorded a different reason from the one you wrote. Nothing was sent to the chain.',
        });
        return null;
      }
      this.declared = { patient: patient.toLowerCase(), reason, hash: reasonHash };
      return reasonHash;
    } catch (error) {
      this.progress.set({ step: 'failed', reason: toApiError(error).message });
      return null;
    }
  }

  private fail(message: string): void {
    this.formError.set(message);
  }
}
