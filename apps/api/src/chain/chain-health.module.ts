import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { type ComponentHealth, HealthService } from '../health/health.service';

const RPC_TIMEOUT_MS = 1_500;

/** Asks the chain node for its chain id: reachable and the configured chain, or why not. */
export async function checkChain(rpcUrl: string, expectedChainId: number): Promise<ComponentHealth> {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    const body = (await response.json()) as { result?: string };
    const chainId = body.result ? Number(BigInt(body.result)) : NaN;
    if (chainId !== expectedChainId) {
      return { status: 'degraded', detail: `node answers chain id ${chainId}, expected ${expectedChainId}` };
    }
    return { status: 'up', detail: `chain id ${chainId}` };
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? 'no answer in time' : 'unreachable';
    // Reads keep working from the projections while the chain is away: degraded, not down.
    return { status: 'degraded', detail: `chain node ${reason}` };
  }
}

@Injectable()
class ChainHealthCheck implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly health: HealthService,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'chain',
      critical: false,
      check: () => checkChain(this.config.CHAIN_RPC_URL, this.config.CHAIN_ID),
    });
  }
}

@Module({ providers: [ChainHealthCheck] })
export class ChainHealthModule {}
