import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  auditLeafValue,
  type AuditLeafSource,
  auditRoot,
  type HealthRecordAccessControl,
  HealthRecordAccessControl__factory,
} from '@custos/chain';
import { AUDIT_ANCHORS_STREAM, AUDIT_STREAM, type AuditAnchorEvent, type NewEvent } from '@custos/domain';
import { isError } from 'ethers';
import { Counter, Gauge, type Registry } from 'prom-client';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import { METRICS_REGISTRY } from '../metrics/metrics.module';
import { PeriodicJob } from '../core/periodic-job';
import { RelayChain } from '../relay/relay-chain';
import { RelayerAccount } from '../relay/relayer-account';
import { type AnchorVerificationReport, verifyAuditAnchors } from './anchor-verifier';

/**
 * Most audit events one anchor covers. A backlog (after an outage) is anchored in several
 * transactions, one per tick, each a bounded read and a bounded record of event hashes.
 */
export const MAX_ANCHOR_RANGE = 2048;

export type AnchorOutcome =
  | { status: 'anchored'; fromPosition: number; toPosition: number; root: string; txHash: string }
  | { status: 'sent'; txHash: string }
  | { status: 'nothing_new' }
  | { status: 'refused'; reason: string }
  | { status: 'reverted'; txHash: string };

/**
 * Anchors the audit log on-chain: every AUDIT_ANCHOR_INTERVAL, the Merkle root of the audit events
 * written since the last anchor goes into `anchorAudit(root, from, to)`, sent from the relayer account
 * (which needs ANCHOR_ROLE; `npm start` grants it). Where the next range starts is read from the
 * contract (pending state included), so a restart neither skips nor repeats a range, and an anchor
 * still in the node's pool is not sent twice. Once mined, the API records `AuditRangeAnchored` with
 * every event hash of the range, for verification to name the first event that changed. Anchors run
 * one at a time; off without a contract, a relayer key, or with AUDIT_ANCHOR_INTERVAL=0.
 */
@Injectable()
export class AuditAnchorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuditAnchor');
  private readonly contract: HealthRecordAccessControl | null;
  private readonly anchoredGauge: Gauge;
  private readonly failures: Counter;
  private readonly job: PeriodicJob<AnchorOutcome>;
  /** Set at shutdown: a wait for a receipt gives up. */
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly chain: RelayChain,
    private readonly account: RelayerAccount,
  ) {
    this.contract =
      chain.provider && chain.deployment
        ? HealthRecordAccessControl__factory.connect(chain.deployment.address, chain.provider)
        : null;
    this.anchoredGauge = new Gauge({
      name: 'custos_audit_anchored_events',
      help: 'Audit events covered by anchors this process sent',
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'custos_audit_anchor_failures_total',
      help: 'Anchoring attempts that were refused, reverted or failed',
      registers: [registry],
    });
    this.job = new PeriodicJob(
      () => this.anchor(),
      this.logger,
      'audit anchoring',
      () => this.failures.inc(),
    );
  }

  /** The contract that holds the anchors (lower case), when there is one. */
  get contractAddress(): string | null {
    return this.chain.deployment?.address ?? null;
  }

  /** Whether the periodic anchoring runs. */
  get scheduled(): boolean {
    return this.job.scheduled;
  }

  onApplicationBootstrap(): void {
    const interval = this.config.AUDIT_ANCHOR_INTERVAL;
    if (!this.contract || !this.account.wallet || interval <= 0) {
      this.logger.log('audit anchoring off: no contract, no relayer, or AUDIT_ANCHOR_INTERVAL=0');
      return;
    }
    this.job.start(interval);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.job.stop();
  }

  private requireContract(): HealthRecordAccessControl {
    if (!this.contract || !this.account.wallet) {
      throw new ServiceUnavailableException(
        'no contract configured: the audit log is not anchored (set CHAIN_RPC_URL and CONTRACT_ADDRESS)',
      );
    }
    return this.contract;
  }

  /** Anchors the events written since the last anchor now (or joins the anchoring under way). */
  anchorNow(): Promise<AnchorOutcome> {
    this.requireContract();
    return this.job.run(new Date());
  }

  /** Checks every anchored range against the event store (see anchor-verifier.ts). */
  verify(now: Date): Promise<AnchorVerificationReport> {
    return verifyAuditAnchors(this.store, this.requireContract(), now);
  }

  private async anchor(): Promise<AnchorOutcome> {
    const contract = this.requireContract();
    const { provider, contract: address } = this.chain.require();
    const from = Number(await contract.nextAuditPosition({ blockTag: 'pending' }));
    const events = await this.store.readStream(AUDIT_STREAM, {
      fromRevision: from,
      maxCount: MAX_ANCHOR_RANGE,
    });
    if (events.length === 0) return { status: 'nothing_new' };
    const values = events.map((e) => auditLeafValue(e as unknown as AuditLeafSource));
    const root = auditRoot(values);
    const to = from + events.length - 1;
    const data = contract.interface.encodeFunctionData('anchorAudit', [root, from, to]);

    let gas: bigint;
    try {
      gas = await provider.estimateGas({ from: this.account.address!, to: address, data });
    } catch (error) {
      if (!isError(error, 'CALL_EXCEPTION')) throw error;
      const reason = this.chain.decodeRevert(error.data);
      this.failures.inc();
      this.logger.warn(
        `the contract refuses the anchor of audit positions ${from}..${to}: ${reason}` +
          (reason === 'AccessControlUnauthorizedAccount'
            ? ` (grant ANCHOR_ROLE to the relayer ${this.account.address})`
            : ''),
      );
      return { status: 'refused', reason };
    }
    const txHash = await this.account.send(data, gas);
    const receipt = await this.account.waitForReceipt(txHash, () => this.stopping);
    // Stopping: the next run finds the range taken (pending state) or mined.
    if (!receipt) return { status: 'sent', txHash };
    if (receipt.status !== 1) {
      this.failures.inc();
      this.logger.warn(`the anchor of audit positions ${from}..${to} reverted (${txHash})`);
      return { status: 'reverted', txHash };
    }
    const record: NewEvent & AuditAnchorEvent = {
      type: 'AuditRangeAnchored',
      version: 1,
      id: `audit-anchor-${address.toLowerCase()}-${from}`,
      data: {
        fromPosition: from,
        toPosition: to,
        root,
        eventHashes: values.map(([, hash]) => hash),
        txHash,
        blockNumber: receipt.blockNumber,
      },
      metadata: {
        actor: 'system',
        correlationId: txHash,
        causationId: txHash,
        occurredAt: new Date().toISOString(),
      },
    };
    await this.store.append(AUDIT_ANCHORS_STREAM, [record], 'any');
    this.anchoredGauge.set(to + 1);
    this.logger.log(`anchored audit positions ${from}..${to} (${events.length} events) in ${txHash}`);
    return { status: 'anchored', fromPosition: from, toPosition: to, root, txHash };
  }
}
