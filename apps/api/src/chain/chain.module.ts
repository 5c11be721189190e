import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ChainMirror, type ChainMirrorStatus, createChainProvider, type MirrorSink } from '@custos/chain';
import type { JsonRpcProvider } from 'ethers';
import { Gauge, type Registry } from 'prom-client';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { safeUrl } from '../config/load-config';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import { type ComponentHealth, HealthService } from '../health/health.service';
import { METRICS_REGISTRY } from '../metrics/metrics.module';
import { type ContractDeployment, deploymentFile, resolveDeployment } from './deployment';

/** The ethers JsonRpcProvider for CHAIN_RPC_URL (null when it is not an http(s) URL). */
export const CHAIN_PROVIDER = Symbol('CHAIN_PROVIDER');
/** The ContractDeployment the API works with (null when no contract address is known). */
export const CHAIN_DEPLOYMENT = Symbol('CHAIN_DEPLOYMENT');

/** The mirror counts as behind when it trails the final head by more than this many blocks. */
export const MIRROR_BEHIND_BLOCKS = 10;

/**
 * /health when no contract is known. `up` rather than `degraded` so that an API run without a chain
 * (the HTTP specs, a bare `node main.js`) still reports ok; the warning at start-up says why.
 */
const NO_CONTRACT_HEALTH: ComponentHealth = { status: 'up', detail: 'off: no contract configured' };

/** The mirror's port onto the event store: idempotent appends (ids are txHash:logIndex), last checkpoint. */
export function eventStoreSink(store: EventStore): MirrorSink {
  return {
    async append(stream, events) {
      await store.append(stream, events, 'any');
    },
    async lastEvent(stream) {
      // An empty append writes nothing and answers the stream's current revision (-1: no stream).
      const { revision } = await store.append(stream, [], 'any');
      if (revision < 0) return undefined;
      const [last] = await store.readStream(stream, { fromRevision: revision, maxCount: 1 });
      return last;
    },
  };
}

/** Text about the chain with the RPC URL (which may carry an API key) cut down to scheme://host:port. */
function redactor(rpcUrl: string): (text: string) => string {
  const safe = safeUrl(rpcUrl);
  const variants = [rpcUrl, rpcUrl.replace(/\/$/, '')].filter((v) => v.length > 0);
  return (text) =>
    variants
      .reduce((t, v) => t.split(v).join(safe), text)
      .replace(/(\/\/)[^/@\s]+@/g, '$1***@')
      .slice(0, 300);
}

/** The health of a running mirror. */
export function mirrorHealth(status: ChainMirrorStatus, confirmations: number): ComponentHealth {
  if (status.state === 'failing') {
    const retryIn = status.retryAt
      ? Math.max(0, Math.round((status.retryAt.getTime() - Date.now()) / 1000))
      : 0;
    return {
      status: 'degraded',
      detail: `mirror behind/unreachable: ${status.lastError ?? 'poll failed'} (${status.consecutiveFailures} failed poll(s), next try in ${retryIn} s)`,
    };
  }
  if (status.state === 'stopped') return { status: 'degraded', detail: 'mirror stopped' };
  if (status.lastSuccessAt === null) return { status: 'degraded', detail: 'mirror starting' };
  const behind = (status.lagBlocks ?? 0) - Math.max(0, confirmations - 1);
  if (behind > MIRROR_BEHIND_BLOCKS) {
    return { status: 'degraded', detail: `mirror behind by ${behind} blocks (at ${status.mirroredBlock})` };
  }
  return { status: 'up', detail: `mirrored to block ${status.mirroredBlock ?? '-'} of ${status.headBlock}` };
}

/** Closes the provider's timers and sockets on shutdown. */
@Injectable()
class ChainProviderLifecycle implements OnApplicationShutdown {
  constructor(@Inject(CHAIN_PROVIDER) private readonly provider: JsonRpcProvider | null) {}

  onApplicationShutdown(): void {
    this.provider?.destroy();
  }
}

/**
 * Runs the chain mirror for the life of the API: contract logs become events in the event store, and
 * the projections make them visible. Started once the app is up, stopped before the store closes.
 * Without a contract address nothing runs (one warning says so).
 */
@Injectable()
export class ChainMirrorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ChainMirror');
  /** Null when the mirror does not run. */
  readonly mirror: ChainMirror | null = null;
  private readonly offReason: string | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CHAIN_PROVIDER) provider: JsonRpcProvider | null,
    @Inject(CHAIN_DEPLOYMENT) readonly deployment: ContractDeployment | null,
    @Inject(METRICS_REGISTRY) registry: Registry,
    health: HealthService,
  ) {
    const redact = redactor(config.CHAIN_RPC_URL);
    if (!deployment) {
      this.offReason = `no contract address: set CONTRACT_ADDRESS, or let npm start deploy the contract and save ${deploymentFile(config.CUSTOS_DATA_DIR)}`;
    } else if (!provider) {
      this.offReason = 'the chain mirror needs an http(s) CHAIN_RPC_URL';
    } else {
      this.mirror = new ChainMirror({
        reader: provider,
        sink: eventStoreSink(store),
        contract: deployment.address,
        chainId: config.CHAIN_ID,
        startBlock: deployment.deployBlock,
        confirmations: config.CHAIN_CONFIRMATIONS,
        pollIntervalMs: config.CHAIN_POLL_INTERVAL,
        logger: {
          log: (m) => this.logger.log(redact(m)),
          warn: (m) => this.logger.warn(redact(m)),
          error: (m) => this.logger.error(redact(m)),
        },
      });
    }

    health.register({
      name: 'chainMirror',
      critical: false,
      check: (): ComponentHealth => {
        if (!this.mirror) {
          return this.deployment
            ? { status: 'degraded', detail: `off: ${this.offReason}` }
            : NO_CONTRACT_HEALTH;
        }
        const h = mirrorHealth(this.mirror.status(), config.CHAIN_CONFIRMATIONS);
        return h.detail ? { ...h, detail: redact(h.detail) } : h;
      },
    });

    const mirror = this.mirror;
    if (mirror) {
      new Gauge({
        name: 'custos_chain_mirror_block',
        help: 'Last block whose contract logs the chain mirror appended',
        registers: [registry],
        collect() {
          const block = mirror.status().mirroredBlock;
          if (block !== null) this.set(block);
        },
      });
      new Gauge({
        name: 'custos_chain_mirror_lag_blocks',
        help: 'Blocks between the chain head and the last block mirrored (confirmation depth included)',
        registers: [registry],
        collect() {
          const lag = mirror.status().lagBlocks;
          if (lag !== null) this.set(lag);
        },
      });
      new Gauge({
        name: 'custos_chain_mirror_failures',
        help: 'Chain mirror polls that failed in a row (0 while it keeps up)',
        registers: [registry],
        collect() {
          this.set(mirror.status().consecutiveFailures);
        },
      });
      new Gauge({
        name: 'custos_chain_mirror_reorgs',
        help: 'Reorgs the chain mirror detected since the API started',
        registers: [registry],
        collect() {
          this.set(mirror.status().reorgs);
        },
      });
    }
  }

  onApplicationBootstrap(): void {
    if (!this.mirror) {
      this.logger.warn(`chain mirror off: ${this.offReason}`);
      return;
    }
    const from = this.deployment?.deployBlock;
    this.logger.log(
      `chain mirror on: contract ${this.deployment?.address} (${this.deployment?.source}) on chain ${this.config.CHAIN_ID}, ` +
        `${this.config.CHAIN_CONFIRMATIONS} confirmation(s), polling every ${this.config.CHAIN_POLL_INTERVAL} ms` +
        (from !== undefined ? `, history from block ${from}` : ''),
    );
    this.mirror.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.mirror?.stop();
  }
}

/**
 * The chain: the JSON-RPC provider, the contract the API works with (CONTRACT_ADDRESS, or the one
 * `npm start` saved under CUSTOS_DATA_DIR/chain) and the mirror of its logs into the event store.
 */
@Module({
  providers: [
    {
      provide: CHAIN_PROVIDER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): JsonRpcProvider | null =>
        /^https?:\/\//i.test(config.CHAIN_RPC_URL)
          ? createChainProvider(config.CHAIN_RPC_URL, config.CHAIN_ID)
          : null,
    },
    {
      provide: CHAIN_DEPLOYMENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ContractDeployment | null => {
        const { deployment, warnings } = resolveDeployment(config);
        for (const warning of warnings) new Logger('ChainMirror').warn(warning);
        return deployment;
      },
    },
    ChainProviderLifecycle,
    ChainMirrorService,
  ],
  exports: [CHAIN_PROVIDER, CHAIN_DEPLOYMENT, ChainMirrorService],
})
export class ChainModule {}
