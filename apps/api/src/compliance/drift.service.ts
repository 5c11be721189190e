import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  categoryId,
  categoryName,
  type HealthRecordAccessControl,
  HealthRecordAccessControl__factory,
  isCategoryName,
} from '@custos/chain';
import {
  type ConsentDriftDetectedData,
  type ConsentSideView,
  consentDriftDetected,
  DRIFT_STREAM,
  type RecordedEvent,
} from '@custos/domain';
import type { JsonRpcProvider } from 'ethers';
import { Counter, Gauge, type Registry } from 'prom-client';
import { CHAIN_DEPLOYMENT, CHAIN_PROVIDER, ChainMirrorService } from '../chain/chain.module';
import type { ContractDeployment } from '../chain/deployment';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { isConsentActive } from '../consent/consent.queries';
import { AggregateRepository, type CommandContext } from '../core/aggregate-repository';
import { findAll } from '../core/find-all';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import { METRICS_REGISTRY } from '../metrics/metrics.module';
import { ProjectionsService } from '../projections/projections.module';
import type { ConsentDocument, DirectoryDocument } from '../projections/read-models';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';

/**
 * How often the periodic reconciliation runs. There is no setting for it on purpose: a check every
 * five minutes costs two `eth_call`s per (patient, provider, category) ever granted, and an auditor who
 * wants one now calls `GET /compliance/drift`. The job does not run without a contract.
 */
export const DRIFT_CHECK_INTERVAL_MS = 5 * 60 * 1000;

/** At most this many pairs are checked on-chain at once (two calls each). */
export const DRIFT_CHAIN_CONCURRENCY = 8;

/** AccessGranted logs are read in ranges of at most this many blocks (RPC providers cap getLogs). */
export const DRIFT_LOG_RANGE_BLOCKS = 10_000;

/** One difference between the projection and the chain. */
export type DriftDifference = ConsentDriftDetectedData;

export interface DriftReport {
  /** (patient, provider, category) triples compared. */
  checkedPairs: number;
  differences: DriftDifference[];
  /** When the reconciliation ran, ISO-8601 UTC. */
  checkedAt: string;
  /** The block whose state the chain side was read at. */
  chainBlock: number;
}

interface Pair {
  patient: string;
  provider: string;
  /** As the projection keeps it: our category name, else the bytes32 id. */
  category: string;
  /** The bytes32 id the contract knows. */
  categoryHash: string;
  consent: ConsentDocument | null;
}

const key = (patient: string, provider: string, category: string) => `${patient}|${provider}|${category}`;
const BYTES32 = /^0x[0-9a-f]{64}$/;

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** What identifies one difference, for not reporting it again while it persists. */
const signature = (d: Pick<DriftDifference, 'projection' | 'chain'>) =>
  JSON.stringify([d.projection.active, d.projection.expiresAt, d.chain.active, d.chain.expiresAt]);

/**
 * Reconciles the consent projection with the contract. For every (patient, provider, category) the
 * `consents` projection knows (the mirror writes one document per pair ever granted) and every pair the
 * contract's AccessGranted logs name, it asks the contract `hasActiveAccess` and `accessExpiry` and
 * compares with the projection's view: the active flag, and the expiry when both sides say active.
 *
 * Both sides are compared at one instant: the chain is read at the last block the mirror has
 * mirrored (the final head when the mirror has not read anything yet), after the projections caught up
 * with the event store, and "now" for the projection is that block's timestamp. So a grant the mirror
 * has not reached yet is not drift; a log the mirror skipped, or a projection document that is wrong,
 * is. On-chain a grant counts as active when `hasActiveAccess` holds and `accessExpiry` is still ahead
 * (an emergency window alone makes `hasActiveAccess` true, but is no consent).
 *
 * Each new difference appends one `ConsentDriftDetected` to the `drift` stream; a difference found again
 * unchanged is not appended again (the last report is remembered, seeded from the stream at the first
 * run). Reconciliations run one at a time.
 */
@Injectable()
export class DriftService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ConsentDrift');
  private readonly contract: HealthRecordAccessControl | null;
  private readonly pairsGauge: Gauge;
  private readonly detections: Counter;
  /** Differences of the last reconciliation, by pair: their signature. Null until seeded. */
  private reported: Map<string, string> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(CHAIN_PROVIDER) private readonly provider: JsonRpcProvider | null,
    @Inject(CHAIN_DEPLOYMENT) private readonly deployment: ContractDeployment | null,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly mirror: ChainMirrorService,
    private readonly projections: ProjectionsService,
    private readonly aggregates: AggregateRepository,
  ) {
    this.contract =
      provider && deployment
        ? HealthRecordAccessControl__factory.connect(deployment.address, provider)
        : null;
    this.pairsGauge = new Gauge({
      name: 'custos_consent_drift_pairs',
      help: 'Pairs (patient, provider, category) on which the consent projection and the chain disagreed at the last reconciliation',
      registers: [registry],
    });
    this.detections = new Counter({
      name: 'custos_consent_drift_detections_total',
      help: 'ConsentDriftDetected events appended (new differences between the consent projection and the chain)',
      registers: [registry],
    });
  }

  /** Whether there is a chain and a contract to reconcile with. */
  get available(): boolean {
    return this.contract !== null;
  }

  /** Whether the periodic job runs. */
  get scheduled(): boolean {
    return this.timer !== null;
  }

  onApplicationBootstrap(): void {
    if (!this.available) {
      this.logger.warn('consent drift check off: no chain provider or no contract configured');
      return;
    }
    this.timer = setInterval(() => {
      this.reconcile({ actor: 'system', correlationId: randomUUID(), now: new Date() }).catch((error) =>
        this.logger.warn(`consent drift check failed: ${(error as Error).message.slice(0, 300)}`),
      );
    }, DRIFT_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue.catch(() => undefined);
  }

  /** Runs one reconciliation now (after any running one), appends the new differences, returns the report. */
  reconcile(context: CommandContext): Promise<DriftReport> {
    if (!this.contract || !this.provider) {
      return Promise.reject(
        new ServiceUnavailableException(
          'no contract configured: the API cannot reconcile consents with the chain (set CHAIN_RPC_URL and CONTRACT_ADDRESS)',
        ),
      );
    }
    const run = this.queue.catch(() => undefined).then(() => this.run(context));
    this.queue = run;
    return run;
  }

  private async run(context: CommandContext): Promise<DriftReport> {
    const contract = this.contract!;
    const provider = this.provider!;
    if (this.stopping) throw new ServiceUnavailableException('the API is shutting down');

    // The chain side is read where the mirror is; then the projections catch up with what it appended.
    const head = await provider.getBlockNumber();
    const finalHead = Math.max(0, head - Math.max(0, this.config.CHAIN_CONFIRMATIONS - 1));
    const mirrored = this.mirror.mirror?.status().mirroredBlock ?? null;
    const chainBlock = mirrored !== null ? Math.min(mirrored, finalHead) : finalHead;
    await this.projections.runner.caughtUp(await this.store.headPosition());
    const block = await provider.getBlock(chainBlock);
    if (!block) throw new ServiceUnavailableException(`the chain node does not know block ${chainBlock}`);
    const now = block.timestamp;

    const pairs = new Map<string, Pair>();
    for (const consent of await findAll<ConsentDocument>(this.readModels, 'consents', {})) {
      const hash = isCategoryName(consent.category)
        ? categoryId(consent.category)
        : BYTES32.test(consent.category)
          ? consent.category
          : null;
      if (!hash) {
        this.logger.warn(`consent ${consent.id}: category ${consent.category} is not a known id; skipped`);
        continue;
      }
      pairs.set(key(consent.patient, consent.provider, consent.category), {
        patient: consent.patient,
        provider: consent.provider,
        category: consent.category,
        categoryHash: hash,
        consent,
      });
    }
    for (const granted of await this.grantedOnChain(chainBlock)) {
      const k = key(granted.patient, granted.provider, granted.category);
      if (!pairs.has(k)) pairs.set(k, { ...granted, consent: null });
    }

    const directory = new Map<string, DirectoryDocument | null>();
    for (const { provider: account } of pairs.values()) {
      if (!directory.has(account)) {
        directory.set(account, await this.readModels.get<DirectoryDocument>('directory', account));
      }
    }

    const checkedAt = context.now.toISOString();
    const list = [...pairs.values()];
    const compared = await mapLimited(list, DRIFT_CHAIN_CONCURRENCY, async (pair) => {
      const overrides = { blockTag: chainBlock };
      const [hasActive, expiry] = await Promise.all([
        contract.hasActiveAccess(pair.patient, pair.provider, pair.categoryHash, overrides),
        contract.accessExpiry(pair.patient, pair.provider, pair.categoryHash, overrides),
      ]);
      const chainExpiry = Number(expiry);
      const chain: ConsentSideView = {
        active: hasActive && chainExpiry > now,
        expiresAt: chainExpiry === 0 ? null : chainExpiry,
      };
      const projection: ConsentSideView = {
        active: isConsentActive(pair.consent, directory.get(pair.provider), now),
        expiresAt: pair.consent?.expiresAt ?? null,
      };
      const differs =
        projection.active !== chain.active ||
        (projection.active && chain.active && projection.expiresAt !== chain.expiresAt);
      return differs
        ? ({
            patient: pair.patient,
            provider: pair.provider,
            category: pair.category,
            projection,
            chain,
            detectedAt: checkedAt,
          } satisfies DriftDifference)
        : null;
    });
    const differences = compared.filter((d): d is DriftDifference => d !== null);

    const reported = await this.lastReported();
    const fresh = differences.filter(
      (d) => reported.get(key(d.patient, d.provider, d.category)) !== signature(d),
    );
    if (fresh.length > 0) {
      await this.aggregates.record(DRIFT_STREAM, fresh.map(consentDriftDetected), context);
      this.detections.inc(fresh.length);
      for (const d of fresh) {
        this.logger.warn(
          `consent drift: ${d.patient} → ${d.provider} (${d.category}): projection ${JSON.stringify(d.projection)}, chain ${JSON.stringify(d.chain)}`,
        );
      }
    }
    this.reported = new Map(differences.map((d) => [key(d.patient, d.provider, d.category), signature(d)]));
    this.pairsGauge.set(differences.length);
    return { checkedPairs: pairs.size, differences, checkedAt, chainBlock };
  }

  /** The pairs the contract's AccessGranted logs name, from its deployment block to `toBlock`. */
  private async grantedOnChain(toBlock: number): Promise<Omit<Pair, 'consent'>[]> {
    const contract = this.contract!;
    const filter = contract.filters.AccessGranted();
    const found = new Map<string, Omit<Pair, 'consent'>>();
    for (let from = this.deployment?.deployBlock ?? 0; from <= toBlock; from += DRIFT_LOG_RANGE_BLOCKS) {
      const to = Math.min(toBlock, from + DRIFT_LOG_RANGE_BLOCKS - 1);
      for (const log of await contract.queryFilter(filter, from, to)) {
        const patient = log.args.patient.toLowerCase();
        const provider = log.args.provider.toLowerCase();
        const categoryHash = log.args.category.toLowerCase();
        const category = categoryName(categoryHash) ?? categoryHash;
        found.set(key(patient, provider, category), { patient, provider, category, categoryHash });
      }
    }
    return [...found.values()];
  }

  /** The differences last reported, by pair; at the first run, the latest of each pair in the stream. */
  private async lastReported(): Promise<Map<string, string>> {
    if (this.reported) return this.reported;
    const seeded = new Map<string, string>();
    const history = (await this.store.readStream(DRIFT_STREAM)) as RecordedEvent[];
    for (const event of history) {
      if (event.type !== 'ConsentDriftDetected') continue;
      const d = event.data as ConsentDriftDetectedData;
      seeded.set(key(d.patient, d.provider, d.category), signature(d));
    }
    this.reported = seeded;
    return seeded;
  }
}
