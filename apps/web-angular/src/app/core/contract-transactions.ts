import { Injectable, InjectionToken, inject, signal } from '@angular/core';

import type { ActionProgress } from '../shared/action-progress';
import { ApiClient, ApiError } from './api-client';
import { ChainRpc, ChainRpcError, type TransactionReceipt } from './chain-rpc';
import { Session } from './session';
import { Wallet, WalletError } from './wallet';

/** The contract ABI slice (contract-abi.ts), loaded on first use. */
export type ContractAbi = typeof import('./contract-abi');

let abiLoading: Promise<ContractAbi> | null = null;

/** Loads the contract ABI slice (a separate chunk with ethers' ABI coder) and caches it. */
export function loadContractAbi(): Promise<ContractAbi> {
  abiLoading ??= import('./contract-abi');
  abiLoading.catch(() => (abiLoading = null));
  return abiLoading;
}

/** Milliseconds between two reads of a sent transaction's receipt (and of lists waiting for it). */
export const CHAIN_POLL_INTERVAL = new InjectionToken<number>('CHAIN_POLL_INTERVAL', {
  providedIn: 'root',
  factory: () => 1000,
});

/** How long to wait for a sent transaction to be mined before saying it is taking too long (ms). */
export const CHAIN_WAIT_LIMIT = new InjectionToken<number>('CHAIN_WAIT_LIMIT', {
  providedIn: 'root',
  factory: () => 2 * 60_000,
});

/** `GET /chain/signing-context`: the chain and the contract (the nonce there is EIP-712's). */
interface ChainContext {
  readonly chainId: number;
  readonly contract: string;
}

type Report = (progress: ActionProgress) => void;

/** Gas limit headroom over the estimate (the state may change between estimate and inclusion). */
const GAS_HEADROOM_PERCENT = 120n;
const ONE_GWEI = 1_000_000_000n;

/**
 * Sends a transaction to the Custos contract from the signed-in person's OWN wallet (not the relayer):
 * the administrator's role changes and pause, emergency staff's break-glass access.
 *
 * - Built-in wallet: nonce, fees and gas come from the API's JSON-RPC gateway (`POST /chain/rpc`), the
 *   transaction is signed here (EIP-1559) and sent with `eth_sendRawTransaction`.
 * - Wallet extension (EIP-1193): `eth_sendTransaction`, confirmed in the extension.
 *
 * Either way the call is first dry-run (`eth_estimateGas`), so a refusal (not an administrator, paused)
 * is reported in words before anything is signed; then the receipt is polled through the gateway.
 * Progress: signing → signed → sent → confirmed, or failed with the reason.
 *
 * ```ts
 * const receipt = await tx.send((abi) => abi.grantRoleData('provider', account), (p) => progress.set(p));
 * ```
 */
@Injectable({ providedIn: 'root' })
export class ContractTransactions {
  private readonly api = inject(ApiClient);
  private readonly rpc = inject(ChainRpc);
  private readonly wallet = inject(Wallet);
  private readonly session = inject(Session);
  private readonly pollInterval = inject(CHAIN_POLL_INTERVAL);
  private readonly waitLimit = inject(CHAIN_WAIT_LIMIT);

  /** True while a transaction is being prepared, signed or followed. */
  readonly busy = signal(false);

  /**
   * Builds the calldata with `build` (given the loaded ABI slice), sends it to the contract and follows
   * it until mined. Resolves the receipt once confirmed, `null` when it failed (reported) or `abort`ed.
   */
  async send(
    build: (abi: ContractAbi) => string,
    report: Report,
    abort?: AbortSignal,
  ): Promise<TransactionReceipt | null> {
    const from = this.session.address();
    if (!from) {
      report({ step: 'failed', reason: 'You are signed out. Sign in again.' });
      return null;
    }
    if (this.busy()) {
      report({ step: 'failed', reason: 'Another change is still in progress. Wait for it to finish.' });
      return null;
    }
    this.busy.set(true);
    let reached: 'signed' | 'sent' | undefined;
    let abi: ContractAbi | undefined;
    try {
      const extension = this.wallet.kind() === 'extension';
      report({ step: 'signing', inExtension: extension });
      await this.wallet.ensureSigner(from);
      const [loaded, context] = await Promise.all([
        loadContractAbi(),
        this.api.get<ChainContext>('/chain/signing-context'),
      ]);
      abi = loaded;
      const data = build(abi);
      const call = { from, to: context.contract, data };
      const estimate = BigInt(await this.rpc.call<string>('eth_estimateGas', [call]));
      const gasLimit = (estimate * GAS_HEADROOM_PERCENT) / 100n;
      if (abort?.aborted) return null;

      let hash: string;
      if (extension) {
        hash = await this.wallet.sendTransaction({
          to: context.contract,
          data,
          chainId: context.chainId,
          gas: gasLimit,
        });
        reached = 'signed';
        report({ step: 'signed' });
      } else {
        const [nonce, gasPrice, tip] = await Promise.all([
          this.rpc.call<string>('eth_getTransactionCount', [from, 'pending']),
          this.rpc.call<string>('eth_gasPrice'),
          this.rpc.call<string>('eth_maxPriorityFeePerGas').catch(() => null),
        ]);
        const maxFeePerGas = BigInt(gasPrice) * 2n;
        const wantedTip = tip === null ? ONE_GWEI : BigInt(tip);
        const raw = await this.wallet.signTransaction({
          type: 2,
          chainId: context.chainId,
          nonce: Number(BigInt(nonce)),
          to: context.contract,
          data,
          gasLimit,
          maxFeePerGas,
          maxPriorityFeePerGas: wantedTip < maxFeePerGas ? wantedTip : maxFeePerGas,
        });
        if (abort?.aborted) return null;
        reached = 'signed';
        report({ step: 'signed' });
        hash = await this.rpc.call<string>('eth_sendRawTransaction', [raw]);
      }
      reached = 'sent';
      report({ step: 'sent' });
      return await this.follow(hash, report, abort);
    } catch (error) {
      if (!abort?.aborted) report({ step: 'failed', reason: describe(error, abi), after: reached });
      return null;
    } finally {
      this.busy.set(false);
    }
  }

  /** Reads the receipt until mined (confirmed or reverted) or the wait limit passes. */
  private async follow(
    hash: string,
    report: Report,
    abort?: AbortSignal,
  ): Promise<TransactionReceipt | null> {
    const started = Date.now();
    let networkFailures = 0;
    while (!abort?.aborted) {
      await sleep(this.pollInterval, abort);
      if (abort?.aborted) return null;
      try {
        const receipt = await this.rpc.receipt(hash);
        networkFailures = 0;
        if (receipt) {
          if (BigInt(receipt.status) === 1n) {
            report({ step: 'confirmed' });
            return receipt;
          }
          report({ step: 'failed', reason: 'The contract refused the transaction.', after: 'sent' });
          return null;
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
        return null;
      }
    }
    return null;
  }
}

/** A failure in words: the contract's revert reason, the wallet's or the API's message. */
export function describe(error: unknown, abi?: ContractAbi): string {
  if (error instanceof ChainRpcError) {
    const reason = abi?.revertReason(error.data);
    if (reason) return reason;
    return error.message ? sentence(`The chain refused it: ${error.message}`) : 'The chain refused it.';
  }
  if (error instanceof WalletError || error instanceof ApiError) return error.message;
  return error instanceof Error && error.message ? sentence(error.message) : 'Something went wrong.';
}

function sentence(text: string): string {
  const t = text.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Resolves after `ms` (at once on abort); `0` still yields to the event loop. */
export function sleep(ms: number, abort?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms));
    abort?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
