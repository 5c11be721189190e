import { Injectable, InjectionToken, inject, signal } from '@angular/core';
import { type CategoryName, categoryId, isCategoryName } from '@custos/chain/categories';
import { type ConsentTypedData, consentDomain, consentTypedData } from '@custos/chain/typed-data';

import { ApiError } from '../core/api-client';
import { Session } from '../core/session';
import { Wallet, WalletError } from '../core/wallet';
import type { ActionProgress } from '../shared/action-progress';
import { PatientApi, type RelayAccepted, type SigningContext } from './patient-api';

/** Milliseconds between two reads of a relay's status (grows to 3× while waiting). */
export const RELAY_POLL_INTERVAL = new InjectionToken<number>('RELAY_POLL_INTERVAL', {
  providedIn: 'root',
  factory: () => 1000,
});

/** How long to follow a relay before saying it is taking too long (ms). */
export const RELAY_WAIT_LIMIT = new InjectionToken<number>('RELAY_WAIT_LIMIT', {
  providedIn: 'root',
  factory: () => 3 * 60_000,
});

/** How long a signature may wait before the relayer sends it (seconds). */
export const SIGNATURE_LIFETIME_SECONDS = 15 * 60;

export interface GrantIntent {
  readonly provider: string;
  readonly category: string;
  /** From the moment of signing. */
  readonly durationSeconds: number;
}

export interface RevokeIntent {
  readonly provider: string;
  readonly category: string;
}

export interface RecordRegistrationIntent {
  /** 0x bytes32, `recordIdOf(cid)`. */
  readonly recordId: string;
  readonly category: string;
  /** The record id this one amends, or null for a new record. */
  readonly supersedes: string | null;
}

/** `bytes32(0)`: "amends nothing" in `RegisterRecord` (ethers' ZeroHash, without loading ethers). */
const ZERO_HASH = `0x${'0'.repeat(64)}`;

type Report = (progress: ActionProgress) => void;

/**
 * Signs a patient's consent with the wallet (EIP-712, the one builder in libs/chain) and follows it
 * to the chain: signing → signed → sent (`POST /consents/...` accepted) → confirmed, or failed with a
 * reason. Each step is reported to `report`; the Promise resolves `true` once confirmed.
 *
 * One signature at a time (`busy()`): each uses the patient's next on-chain nonce.
 */
@Injectable({ providedIn: 'root' })
export class ConsentSigning {
  private readonly api = inject(PatientApi);
  private readonly wallet = inject(Wallet);
  private readonly session = inject(Session);
  private readonly pollInterval = inject(RELAY_POLL_INTERVAL);
  private readonly waitLimit = inject(RELAY_WAIT_LIMIT);

  /** True while a signature is being made or followed. */
  readonly busy = signal(false);

  /** Grants `intent.provider` access to `intent.category` for `durationSeconds` from now. */
  grant(intent: GrantIntent, report: Report, abort?: AbortSignal): Promise<boolean> {
    const category = checkedCategory(intent.category);
    return this.run(report, abort, async (patient, context) => {
      const now = Math.floor(Date.now() / 1000);
      const expiresAt = now + intent.durationSeconds;
      const deadline = now + SIGNATURE_LIFETIME_SECONDS;
      const typed = consentTypedData('Grant', consentDomain(context.chainId, context.contract), {
        patient,
        provider: intent.provider,
        category: categoryId(category),
        expiresAt,
        nonce: context.nonce,
        deadline,
      });
      const signature = await this.sign(typed);
      return () =>
        this.api.submitGrant({
          patient,
          provider: intent.provider,
          category,
          expiresAt,
          deadline,
          signature,
        });
    });
  }

  /** Takes back `intent.provider`'s access to `intent.category` at once. */
  revoke(intent: RevokeIntent, report: Report, abort?: AbortSignal): Promise<boolean> {
    const category = checkedCategory(intent.category);
    return this.run(report, abort, async (patient, context) => {
      const deadline = Math.floor(Date.now() / 1000) + SIGNATURE_LIFETIME_SECONDS;
      const typed = consentTypedData('Revoke', consentDomain(context.chainId, context.contract), {
        patient,
        provider: intent.provider,
        category: categoryId(category),
        nonce: context.nonce,
        deadline,
      });
      const signature = await this.sign(typed);
      return () =>
        this.api.submitRevoke({ patient, provider: intent.provider, category, deadline, signature });
    });
  }

  /**
   * Registers a record already encrypted and uploaded (`intent.recordId` = `recordIdOf(cid)`):
   * signs `RegisterRecord` and hands the signature to `submit` (`POST /records`), then follows the
   * relay like a grant's. `supersedes` is the record it amends, or null.
   */
  registerRecord(
    intent: RecordRegistrationIntent,
    submit: (signed: { patient: string; deadline: number; signature: string }) => Promise<RelayAccepted>,
    report: Report,
    abort?: AbortSignal,
  ): Promise<boolean> {
    const category = checkedCategory(intent.category);
    return this.run(report, abort, async (patient, context) => {
      const deadline = Math.floor(Date.now() / 1000) + SIGNATURE_LIFETIME_SECONDS;
      const typed = consentTypedData('RegisterRecord', consentDomain(context.chainId, context.contract), {
        patient,
        recordId: intent.recordId,
        category: categoryId(category),
        supersedes: intent.supersedes ?? ZERO_HASH,
        nonce: context.nonce,
        deadline,
      });
      const signature = await this.sign(typed);
      return () => submit({ patient, deadline, signature });
    });
  }

  private sign(typed: ConsentTypedData<'Grant' | 'Revoke' | 'RegisterRecord'>): Promise<string> {
    return this.wallet.signTypedData(typed.domain, typed.types, typed.message);
  }

  private async run(
    report: Report,
    abort: AbortSignal | undefined,
    prepare: (patient: string, context: SigningContext) => Promise<() => Promise<RelayAccepted>>,
  ): Promise<boolean> {
    const patient = this.session.address();
    if (!patient) {
      report({ step: 'failed', reason: 'You are signed out. Sign in again.' });
      return false;
    }
    if (this.busy()) {
      report({ step: 'failed', reason: 'Another change is still in progress. Wait for it to finish.' });
      return false;
    }
    this.busy.set(true);
    let reached: 'signed' | 'sent' | undefined;
    try {
      report({ step: 'signing', inExtension: this.wallet.kind() === 'extension' });
      await this.wallet.ensureSigner(patient);
      const context = await this.api.signingContext();
      const submit = await prepare(patient, context);
      if (abort?.aborted) return false;
      reached = 'signed';
      report({ step: 'signed' });
      const accepted = await submit();
      reached = 'sent';
      report({ step: 'sent' });
      return await this.follow(accepted.id, report, abort);
    } catch (error) {
      if (!abort?.aborted) report({ step: 'failed', reason: describe(error), after: reached });
      return false;
    } finally {
      this.busy.set(false);
    }
  }

  /** Reads the relay until it is confirmed or failed, or the wait limit passes. */
  private async follow(id: string, report: Report, abort?: AbortSignal): Promise<boolean> {
    const started = Date.now();
    let delay = this.pollInterval;
    let networkFailures = 0;
    while (!abort?.aborted) {
      await sleep(delay, abort);
      if (abort?.aborted) return false;
      try {
        const relay = await this.api.relay(id);
        networkFailures = 0;
        if (relay.status === 'confirmed') {
          report({ step: 'confirmed' });
          return true;
        }
        if (relay.status === 'failed') {
          report({
            step: 'failed',
            reason: relay.reason ? sentence(relay.reason) : 'The change was refused.',
            after: 'sent',
          });
          return false;
        }
      } catch (error) {
        if (!(error instanceof ApiError) || !error.isNetworkError || ++networkFailures > 5) throw error;
      }
      if (Date.now() - started > this.waitLimit) {
        report({
          step: 'failed',
          reason:
            'It is taking longer than usual. It may still go through: check this page again in a few minutes before retrying.',
          after: 'sent',
        });
        return false;
      }
      delay = Math.min(delay * 1.5, this.pollInterval * 3);
    }
    return false;
  }
}

function checkedCategory(name: string): CategoryName {
  if (!isCategoryName(name)) throw new RangeError(`unknown category: ${name}`);
  return name;
}

function describe(error: unknown): string {
  if (error instanceof WalletError || error instanceof ApiError) return error.message;
  return error instanceof Error && error.message ? sentence(error.message) : 'Something went wrong.';
}

function sentence(text: string): string {
  const t = text.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function sleep(ms: number, abort?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) {
      queueMicrotask(resolve);
      return;
    }
    const timer = setTimeout(resolve, ms);
    abort?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
