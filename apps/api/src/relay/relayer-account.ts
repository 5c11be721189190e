import { Inject, Injectable, Logger } from '@nestjs/common';
import { type TransactionReceipt, Wallet } from 'ethers';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { RelayChain } from './relay-chain';

/** How often a sent transaction's receipt is looked for. */
const RECEIPT_POLL_MS = 100;

/**
 * The relayer account (RELAYER_PRIVATE_KEY): the one sender of the API's transactions, consent relays
 * and audit anchors alike. Sends are serialised here and the account nonce is tracked here, so two
 * senders in one process never race on a nonce. After a send error the pending nonce is read again from
 * the node and the send tried once more, so a nonce used elsewhere never leaves the account stuck.
 */
@Injectable()
export class RelayerAccount {
  private readonly logger = new Logger('RelayerAccount');
  readonly wallet: Wallet | null;
  /** The next nonce; null = read the pending nonce from the node before the next send. */
  private nextNonce: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Transactions sent from this process (for tests and logs). */
  sentTransactions = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly chain: RelayChain,
  ) {
    this.wallet = chain.provider ? new Wallet(config.RELAYER_PRIVATE_KEY, chain.provider) : null;
  }

  get address(): string | null {
    return this.wallet?.address ?? null;
  }

  /** Forget the tracked nonce: read it from the node before the next send (a transaction was dropped). */
  resetNonce(): void {
    this.nextNonce = null;
  }

  /** Sends one transaction to the contract with `data`, gas limit from `estimatedGas`; returns its hash. */
  send(data: string, estimatedGas: bigint): Promise<string> {
    const next = this.queue.then(() => this.sendNow(data, estimatedGas));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async sendNow(data: string, estimatedGas: bigint): Promise<string> {
    const { provider, contract } = this.chain.require();
    const wallet = this.wallet!;
    for (let attempt = 0; ; attempt++) {
      if (this.nextNonce === null) {
        this.nextNonce = await provider.getTransactionCount(wallet.address, 'pending');
      }
      try {
        const tx = await wallet.sendTransaction({
          to: contract,
          data,
          nonce: this.nextNonce,
          gasLimit: (estimatedGas * 12n) / 10n + 20_000n,
          chainId: this.chain.chainId,
        });
        this.nextNonce++;
        this.sentTransactions++;
        return tx.hash;
      } catch (error) {
        this.nextNonce = null;
        this.logger.warn(`send failed (attempt ${attempt + 1}): ${(error as Error).message.slice(0, 200)}`);
        if (attempt >= 1) throw error;
      }
    }
  }

  /** Polls for the receipt until it comes, or `stopped()` says to give up (then null). */
  async waitForReceipt(txHash: string, stopped: () => boolean): Promise<TransactionReceipt | null> {
    const provider = this.chain.require().provider;
    while (!stopped()) {
      const receipt = await provider.getTransactionReceipt(txHash);
      if (receipt) return receipt;
      await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
    }
    return null;
  }
}
