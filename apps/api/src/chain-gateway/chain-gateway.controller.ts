import { Body, Controller, HttpCode, Get, Inject, Post, ServiceUnavailableException } from '@nestjs/common';
import { HealthRecordAccessControl__factory } from '@custos/chain';
import { invalid } from '@custos/domain';
import { Allow, ArrayMaxSize, IsArray, IsIn, IsOptional } from 'class-validator';
import { isError, type JsonRpcProvider, Transaction } from 'ethers';
import { Roles } from '../auth/roles.decorator';
import { CHAIN_DEPLOYMENT, CHAIN_PROVIDER, ChainMirrorService } from '../chain/chain.module';
import type { ContractDeployment } from '../chain/deployment';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import type { CommandContext } from '../core/aggregate-repository';
import { Context } from '../core/request-context';
import { RelayerAccount } from '../relay/relayer-account';

/**
 * JSON-RPC methods a browser wallet needs to sign and send its own contract transactions (the admin's
 * role changes, emergency staff's break-glass) when it has no node of its own (the built-in wallet).
 * Calls and transactions must go to our contract: the API is not an open RPC endpoint.
 */
export const GATEWAY_METHODS = [
  'eth_chainId',
  'net_version',
  'eth_blockNumber',
  'eth_getBlockByNumber',
  'eth_gasPrice',
  'eth_maxPriorityFeePerGas',
  'eth_feeHistory',
  'eth_getTransactionCount',
  'eth_getBalance',
  'eth_estimateGas',
  'eth_call',
  'eth_sendRawTransaction',
  'eth_getTransactionReceipt',
  'eth_getTransactionByHash',
] as const;

export class JsonRpcRequestBody {
  @IsIn(['2.0'], { message: 'jsonrpc must be "2.0"' })
  jsonrpc!: '2.0';

  @Allow()
  id!: unknown;

  @IsIn(GATEWAY_METHODS, { message: `method must be one of ${GATEWAY_METHODS.join(', ')}` })
  method!: (typeof GATEWAY_METHODS)[number];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(4)
  params?: unknown[];
}

export interface SigningContext {
  chainId: number;
  /** The contract the EIP-712 domain names (lower case). */
  contract: string;
  /** The caller's next EIP-712 nonce on the contract. */
  nonce: number;
}

export interface ChainStatus {
  chainId: number;
  contract: string | null;
  headBlock: number | null;
  paused: boolean | null;
  mirror: { state: string; mirroredBlock: number | null; lagBlocks: number | null } | null;
  relayer: { address: string | null; balanceWei: string | null };
}

/** What the web app needs from the chain, through the API: signing context, status, a narrow RPC. */
@Controller('chain')
export class ChainGatewayController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CHAIN_PROVIDER) private readonly provider: JsonRpcProvider | null,
    @Inject(CHAIN_DEPLOYMENT) private readonly deployment: ContractDeployment | null,
    private readonly mirror: ChainMirrorService,
    private readonly relayer: RelayerAccount,
  ) {}

  private require(): { provider: JsonRpcProvider; contract: string } {
    if (!this.provider || !this.deployment) {
      throw new ServiceUnavailableException(
        'no contract configured (set CHAIN_RPC_URL and CONTRACT_ADDRESS, or run npm start)',
      );
    }
    return { provider: this.provider, contract: this.deployment.address };
  }

  /** The EIP-712 domain and the caller's nonce: what a patient's wallet needs to sign a consent. */
  @Get('signing-context')
  async signingContext(@Context() context: CommandContext): Promise<SigningContext> {
    const { provider, contract } = this.require();
    const nonce = await HealthRecordAccessControl__factory.connect(contract, provider).nonces(context.actor);
    return { chainId: this.config.CHAIN_ID, contract, nonce: Number(nonce) };
  }

  /** Chain health for the administrator: head, pause state, the mirror, the relayer's balance. */
  @Get('status')
  @Roles('admin')
  async status(): Promise<ChainStatus> {
    const status = this.mirror.mirror?.status();
    const base: ChainStatus = {
      chainId: this.config.CHAIN_ID,
      contract: this.deployment?.address ?? null,
      headBlock: null,
      paused: null,
      mirror: status
        ? { state: status.state, mirroredBlock: status.mirroredBlock, lagBlocks: status.lagBlocks }
        : null,
      relayer: { address: this.relayer.address?.toLowerCase() ?? null, balanceWei: null },
    };
    if (!this.provider || !this.deployment) return base;
    try {
      base.headBlock = await this.provider.getBlockNumber();
      if (this.relayer.address) {
        base.relayer.balanceWei = (await this.provider.getBalance(this.relayer.address)).toString();
      }
      base.paused = await HealthRecordAccessControl__factory.connect(
        this.deployment.address,
        this.provider,
      ).paused();
    } catch {
      // The node is away: report what is known (the mirror's state says why).
    }
    return base;
  }

  /**
   * A narrow JSON-RPC gateway for signed-in wallets without a node: reads, fee data, and transactions
   * or calls addressed to our contract on our chain only. Answers JSON-RPC (errors included) with 200.
   */
  @Post('rpc')
  @HttpCode(200)
  async rpc(@Body() body: JsonRpcRequestBody): Promise<unknown> {
    const { provider, contract } = this.require();
    const params = body.params ?? [];
    if (body.method === 'eth_sendRawTransaction') {
      let tx: Transaction;
      try {
        tx = Transaction.from(String(params[0]));
      } catch {
        throw invalid('invalid_transaction', 'params[0] must be a signed raw transaction');
      }
      if (tx.to?.toLowerCase() !== contract) {
        throw invalid(
          'wrong_destination',
          `transactions through the API must go to the contract ${contract}`,
        );
      }
      if (Number(tx.chainId) !== this.config.CHAIN_ID) {
        throw invalid(
          'wrong_chain',
          `the transaction is for chain ${tx.chainId}, not ${this.config.CHAIN_ID}`,
        );
      }
    }
    if (body.method === 'eth_call' || body.method === 'eth_estimateGas') {
      const call = params[0] as { to?: unknown } | undefined;
      if (typeof call?.to !== 'string' || call.to.toLowerCase() !== contract) {
        throw invalid('wrong_destination', `calls through the API must go to the contract ${contract}`);
      }
    }
    try {
      const result = await provider.send(body.method, params);
      return { jsonrpc: '2.0', id: body.id ?? null, result };
    } catch (error) {
      if (isError(error, 'CALL_EXCEPTION')) {
        return {
          jsonrpc: '2.0',
          id: body.id ?? null,
          error: { code: 3, message: 'execution reverted', data: error.data },
        };
      }
      const info = (error as { error?: { code?: number; message?: string; data?: unknown } }).error;
      return {
        jsonrpc: '2.0',
        id: body.id ?? null,
        error: {
          code: info?.code ?? -32000,
          message: (info?.message ?? (error as Error).message).slice(0, 300),
          ...(info?.data !== undefined ? { data: info.data } : {}),
        },
      };
    }
  }
}
