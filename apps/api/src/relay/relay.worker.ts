import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  type ConsentCommand,
  type ConsentEvent,
  consentDecider,
  consentStream,
  type RecordEvent,
  recordsStream,
} from '@custos/domain';
import { isError, type TransactionReceipt, zeroPadValue } from 'ethers';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { AggregateRepository } from '../core/aggregate-repository';
import { findAll } from '../core/find-all';
import { EVENT_STORE } from '../event-store/event-store.module';
import { ConcurrencyError, type EventStore } from '../event-store/event-store.port';
import type { ConsentRelayDocument } from '../projections/read-models';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import { intentOf, isSubmittedEvent, RelayChain, type SubmittedEvent } from './relay-chain';
import { RelayerAccount } from './relayer-account';

/** Relays sent together in one `multicall` at most. */
export const MAX_RELAYS_PER_TRANSACTION = 20;
/** After a submission wakes the worker, it waits this long so that intents arriving together go out together. */
export const BATCH_WINDOW_MS = 150;
/** Longest pause between rounds after failures (RPC outage). */
const MAX_BACKOFF_MS = 30_000;
/**
 * How far back (in blocks) a refused relay's own earlier transaction is looked for, and in windows of
 * how many blocks (JSON-RPC providers limit the range of one eth_getLogs).
 */
const SENT_EARLIER_LOOKBACK_BLOCKS = 10_000;
const LOG_WINDOW_BLOCKS = 2_000;

interface Call {
  relay: ConsentRelayDocument;
  data: string;
  /** The patient's signature the call carries. */
  signature: string;
}

type Simulation = { ok: true; gas: bigint } | { ok: false; reason: string };

/**
 * The relay worker: one per API process, started on bootstrap, stopped on shutdown, and only when there
 * is a chain provider and a contract. It is ONE loop that sends ONE transaction at a time through
 * the RelayerAccount (which also sends the audit anchors and keeps the account nonce). Each round it:
 *
 * 1. resolves relays that have a txHash but no outcome from their receipt (after a restart, say): a
 *    relay is never sent twice. (Were it sent again, the contract would refuse the copy anyway: the
 *    patient's nonce in the signature is used once, so a second copy reverts with InvalidSignature.)
 *    A relay whose transaction went out just before a crash, with no txHash recorded, is refused by the
 *    contract when its turn comes again; it is then found on-chain and recorded (failUnlessSentEarlier).
 * 2. records `confirmed` for mined relays CHAIN_CONFIRMATIONS deep, from the block their receipt names
 *    now (a reorganisation may move, revert or drop them before that);
 * 3. sends the relays waiting in `submitted` without a txHash: several at once go out as ONE
 *    `multicall` transaction once a simulation (estimateGas) passes; if it does not, each is simulated
 *    alone, the good ones are sent together and each bad one is marked failed with the contract's
 *    custom error name (InvalidSignature, NotAProvider, ExpiredSignature, ...). `sent` (txHash) is
 *    recorded BEFORE waiting for the receipt, then `mined` or `failed`, then `confirmed`.
 *
 * The relays come from the `consent_relays` read model (by status); the signed intents from the
 * patients' consent streams; every step is an event appended through the consent decider.
 */
@Injectable()
export class RelayWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RelayWorker');
  private loop: Promise<void> | null = null;
  private stopping = false;
  private woken = false;
  private wakeUp: (() => void) | null = null;
  private failures = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly aggregates: AggregateRepository,
    private readonly chain: RelayChain,
    private readonly account: RelayerAccount,
  ) {}

  get running(): boolean {
    return this.loop !== null;
  }

  /** The relayer's address, when the worker can run. */
  get relayer(): string | null {
    return this.account.address;
  }

  /** Transactions the relayer account sent from this process (relays and anchors). */
  get sentTransactions(): number {
    return this.account.sentTransactions;
  }

  onApplicationBootstrap(): void {
    if (!this.chain.available || !this.account.wallet) {
      this.logger.warn('relay worker off: no chain provider or no contract configured');
      return;
    }
    this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (this.loop || !this.account.wallet || !this.chain.available) return;
    this.stopping = false;
    this.account.resetNonce(); // someone may have used the account meanwhile
    this.logger.log(`relay worker on: relayer ${this.account.address}`);
    this.loop = this.run();
  }

  /** Stops after the current step; a transaction being waited for is resolved from its receipt later. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.loop;
    this.loop = null;
  }

  /** A relay was submitted: look now (after the batch window) rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.round();
        this.failures = 0;
      } catch (error) {
        this.failures++;
        this.logger.warn(
          `relay round failed (${this.failures} in a row): ${(error as Error).message.slice(0, 300)}`,
        );
      }
      if (this.stopping) break;
      const idle = this.failures
        ? Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 6))
        : this.config.CHAIN_POLL_INTERVAL;
      if (await this.sleep(idle)) await this.sleep(BATCH_WINDOW_MS, false);
    }
  }

  /** Sleeps `ms`, or until stopped (or woken, when `wakeable`); true when woken by a submission. */
  private sleep(ms: number, wakeable = true): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    if (wakeable && this.woken) {
      this.woken = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.wakeUp = null;
        if (woken) this.woken = false;
        resolve(woken);
      };
      const timer = setTimeout(() => done(false), ms);
      // The batch window is not cut short by more submissions, only by a stop.
      this.wakeUp = () => {
        if (wakeable || this.stopping) done(wakeable && !this.stopping);
      };
    });
  }

  private async round(): Promise<void> {
    await this.resolveSent();
    await this.confirmMined();
    while (!this.stopping && (await this.sendWaiting())) {
      await this.confirmMined();
    }
  }

  // ---------------------------------------------------------------------------------------- steps

  private relaysIn(status: ConsentRelayDocument['status']): Promise<ConsentRelayDocument[]> {
    return findAll<ConsentRelayDocument>(this.readModels, 'consent_relays', {
      where: { status },
      sort: { field: 'submittedAt', direction: 'asc' },
    });
  }

  /** Relays sent before (by an earlier run of the API) whose outcome was not recorded. */
  private async resolveSent(): Promise<void> {
    const provider = this.chain.require().provider;
    for (const relay of (await this.relaysIn('submitted')).filter((r) => r.txHash)) {
      const txHash = relay.txHash!;
      const receipt = await provider.getTransactionReceipt(txHash);
      if (receipt) {
        await this.recordOutcome([relay], receipt);
      } else if (!(await provider.getTransaction(txHash))) {
        // The node no longer knows the transaction (dropped from its pool): the intent did not happen.
        await this.record(relay, {
          type: 'FailRelay',
          relayId: relay.id,
          reason: 'the transaction was dropped before it was mined; sign and submit again',
        });
        this.account.resetNonce();
      }
      // Otherwise still pending: the next round looks again.
    }
  }

  /**
   * Mined relays become confirmed once CHAIN_CONFIRMATIONS deep, counted from where their transaction
   * is NOW: the receipt is read again each round, so a reorganisation that moved the transaction to
   * another block restarts the count there, one that reverted it fails the relay, and one that dropped
   * it (the node no longer knows it) fails the relay with a reason the patient can act on.
   */
  private async confirmMined(): Promise<void> {
    const mined = await this.relaysIn('mined');
    if (mined.length === 0) return;
    const provider = this.chain.require().provider;
    const head = await provider.getBlockNumber();
    const depth = Math.max(1, this.config.CHAIN_CONFIRMATIONS);
    for (const relay of mined) {
      if (!relay.txHash) continue;
      const receipt = await provider.getTransactionReceipt(relay.txHash);
      if (!receipt) {
        if (!(await provider.getTransaction(relay.txHash))) {
          await this.fail(
            relay,
            'the transaction was dropped in a chain reorganisation before it was confirmed; sign and submit again',
          );
          this.account.resetNonce();
        }
        continue; // back in the node's pool: mined again later
      }
      if (receipt.status !== 1) {
        await this.fail(relay, await this.revertReason(receipt));
        continue;
      }
      if (receipt.blockNumber !== relay.blockNumber) {
        await this.record(relay, {
          type: 'RecordRelayMined',
          relayId: relay.id,
          blockNumber: receipt.blockNumber,
        });
      }
      if (head - receipt.blockNumber + 1 >= depth) {
        await this.record(relay, { type: 'RecordRelayConfirmed', relayId: relay.id });
      }
    }
  }

  /** Sends the relays waiting to be sent, as one transaction; true when there may be more. */
  private async sendWaiting(): Promise<boolean> {
    const waiting = (await this.relaysIn('submitted')).filter((r) => !r.txHash);
    if (waiting.length === 0) return false;
    let calls: Call[] = [];
    for (const relay of waiting.slice(0, MAX_RELAYS_PER_TRANSACTION)) {
      const call = await this.callOf(relay);
      if (call) calls.push(call);
    }
    if (calls.length === 0) return waiting.length > MAX_RELAYS_PER_TRANSACTION;

    let simulation = await this.simulate(calls);
    if (!simulation.ok && calls.length > 1) {
      // multicall is all-or-nothing: find the culprits one by one, and send the others together.
      const good: Call[] = [];
      for (const call of calls) {
        const alone = await this.simulate([call]);
        if (alone.ok) good.push(call);
        else await this.failUnlessSentEarlier(call, alone.reason);
      }
      calls = good;
      if (calls.length === 0) return true;
      simulation = await this.simulate(calls);
      if (!simulation.ok && calls.length > 1) {
        // Good alone, bad together (two intents interfering): one at a time, the rest next round.
        calls = calls.slice(0, 1);
        simulation = await this.simulate(calls);
      }
    }
    if (!simulation.ok) {
      await this.failUnlessSentEarlier(calls[0]!, simulation.reason);
      return true;
    }
    const txHash = await this.account.send(
      calls.length === 1 ? calls[0]!.data : this.chain.multicall(calls.map((c) => c.data)),
      simulation.gas,
    );
    // Recorded before waiting for the receipt: a crash from here on leaves a txHash to resolve, never a resend.
    for (const { relay } of calls) {
      await this.record(relay, { type: 'RecordRelaySent', relayId: relay.id, txHash });
    }
    const receipt = await this.account.waitForReceipt(txHash, () => this.stopping);
    if (receipt) {
      await this.recordOutcome(
        calls.map((c) => ({ ...c.relay, txHash })),
        receipt,
      );
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------- chain

  private async callOf(relay: ConsentRelayDocument): Promise<Call | null> {
    const events = (await this.store.readStream(consentStream(relay.patient))) as unknown as ConsentEvent[];
    const submitted = events.find(
      (e): e is SubmittedEvent => isSubmittedEvent(e) && e.data.relayId === relay.id,
    );
    if (!submitted) {
      await this.fail(relay, 'the submitted intent was not found in the event store');
      return null;
    }
    // A record is registered on-chain only once its content is stored (see RecordsService.submit).
    if (submitted.type === 'RecordRegistrationSubmitted' && !(await this.recordStored(submitted.data))) {
      await this.fail(relay, "the record's content was not stored; upload it again");
      return null;
    }
    try {
      return { relay, data: this.chain.encode(intentOf(submitted)), signature: submitted.data.signature };
    } catch (error) {
      await this.fail(relay, `cannot encode the intent: ${(error as Error).message}`);
      return null;
    }
  }

  private async recordStored(intent: { patient: string; recordId: string }): Promise<boolean> {
    const events = (await this.store.readStream(recordsStream(intent.patient))) as unknown as RecordEvent[];
    return events.some((e) => e.type === 'RecordSubmitted' && e.data.recordId === intent.recordId);
  }

  /** estimateGas of the transaction the calls would make: a revert is an answer, any other error is thrown. */
  private async simulate(calls: readonly Call[]): Promise<Simulation> {
    const { provider, contract } = this.chain.require();
    const data = calls.length === 1 ? calls[0]!.data : this.chain.multicall(calls.map((c) => c.data));
    try {
      const gas = await provider.estimateGas({ from: this.account.address!, to: contract, data });
      return { ok: true, gas };
    } catch (error) {
      if (isError(error, 'CALL_EXCEPTION')) return { ok: false, reason: this.chain.decodeRevert(error.data) };
      throw error;
    }
  }

  private async recordOutcome(
    relays: readonly ConsentRelayDocument[],
    receipt: TransactionReceipt,
  ): Promise<void> {
    if (receipt.status === 1) {
      for (const relay of relays) {
        await this.record(relay, {
          type: 'RecordRelayMined',
          relayId: relay.id,
          blockNumber: receipt.blockNumber,
        });
      }
      return;
    }
    const reason = await this.revertReason(receipt);
    for (const relay of relays) await this.fail(relay, reason);
  }

  /** Why a mined transaction reverted: replayed with eth_call on the block before it. */
  private async revertReason(receipt: TransactionReceipt): Promise<string> {
    const provider = this.chain.require().provider;
    try {
      const tx = await provider.getTransaction(receipt.hash);
      if (!tx) return 'reverted';
      await provider.call({
        from: tx.from,
        to: tx.to,
        data: tx.data,
        blockTag: Math.max(0, receipt.blockNumber - 1),
      });
      return 'reverted';
    } catch (error) {
      return isError(error, 'CALL_EXCEPTION') ? this.chain.decodeRevert(error.data) : 'reverted';
    }
  }

  /**
   * A relay the contract refuses may be one this worker sent already: the API was killed (kill -9, power
   * loss) after the transaction went out and before `sent` was recorded, so the relay still waits to be
   * sent and its signature's nonce is used, by that very transaction. Before failing it, the relayer's
   * transaction carrying its signature is looked for among the contract's recent logs for the patient;
   * when found, the relay is recorded as sent in it and resolved from its receipt, never sent again.
   */
  private async failUnlessSentEarlier(call: Call, reason: string): Promise<void> {
    const receipt = await this.sentEarlier(call);
    if (!receipt) return this.fail(call.relay, reason);
    this.logger.warn(`relay ${call.relay.id} was sent before a restart in ${receipt.hash}: recorded now`);
    await this.record(call.relay, { type: 'RecordRelaySent', relayId: call.relay.id, txHash: receipt.hash });
    await this.recordOutcome([{ ...call.relay, txHash: receipt.hash }], receipt);
  }

  /** The receipt of a recent relayer transaction to the contract that carries `call`'s signature, or null. */
  private async sentEarlier(call: Call): Promise<TransactionReceipt | null> {
    const { provider, contract } = this.chain.require();
    const relayer = this.account.address!.toLowerCase();
    const signature = call.signature.toLowerCase().replace(/^0x/, '');
    const head = await provider.getBlockNumber();
    const floor = Math.max(this.chain.deployment?.deployBlock ?? 0, head - SENT_EARLIER_LOOKBACK_BLOCKS);
    // Every event a relayed intent emits (AccessGranted, AccessRevoked, RecordRegistered) is indexed by
    // the patient first.
    const topics = [null, zeroPadValue(call.relay.patient, 32)];
    for (let to = head; to >= floor; to -= LOG_WINDOW_BLOCKS) {
      const fromBlock = Math.max(floor, to - LOG_WINDOW_BLOCKS + 1);
      const logs = await provider.getLogs({ address: contract, topics, fromBlock, toBlock: to });
      for (const txHash of new Set(logs.map((log) => log.transactionHash).reverse())) {
        const tx = await provider.getTransaction(txHash);
        if (tx?.from.toLowerCase() === relayer && tx.data.toLowerCase().includes(signature)) {
          return provider.getTransactionReceipt(txHash);
        }
      }
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------- events

  private fail(relay: ConsentRelayDocument, reason: string): Promise<void> {
    this.logger.warn(`relay ${relay.id} failed: ${reason}`);
    return this.record(relay, { type: 'FailRelay', relayId: relay.id, reason });
  }

  /** Runs a relay command on the patient's consent stream; retried when the mirror appended meanwhile. */
  private async record(
    relay: Pick<ConsentRelayDocument, 'id' | 'patient'>,
    command: ConsentCommand,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.aggregates.execute(consentDecider, consentStream(relay.patient), command, {
          actor: 'system',
          correlationId: relay.id,
          now: new Date(),
        });
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= 5) throw error;
      }
    }
  }
}
