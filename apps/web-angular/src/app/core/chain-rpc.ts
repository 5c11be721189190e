import { Injectable, inject } from '@angular/core';

import { ApiClient } from './api-client';

/** The JSON-RPC methods the API's gateway (`POST /chain/rpc`) answers. */
export type GatewayMethod =
  | 'eth_chainId'
  | 'eth_blockNumber'
  | 'eth_gasPrice'
  | 'eth_maxPriorityFeePerGas'
  | 'eth_getTransactionCount'
  | 'eth_getBalance'
  | 'eth_estimateGas'
  | 'eth_call'
  | 'eth_sendRawTransaction'
  | 'eth_getTransactionReceipt'
  | 'eth_getTransactionByHash';

interface JsonRpcAnswer<T> {
  readonly jsonrpc: '2.0';
  readonly id: unknown;
  readonly result?: T;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown };
}

/** A JSON-RPC error from the chain (e.g. `execution reverted` with the revert data). */
export class ChainRpcError extends Error {
  override readonly name = 'ChainRpcError';
  constructor(
    readonly code: number,
    message: string,
    /** The revert data (`0x…`) of a refused call, when the node gave it. */
    readonly data: string | undefined,
  ) {
    super(message);
  }
}

/** A mined transaction, as `eth_getTransactionReceipt` answers it (hex quantities). */
export interface TransactionReceipt {
  readonly transactionHash: string;
  readonly blockNumber: string;
  /** The contract called. */
  readonly to: string | null;
  /** `0x1` success, `0x0` reverted. */
  readonly status: string;
  readonly logs: readonly { readonly address: string; readonly topics: string[]; readonly data: string }[];
}

/**
 * The chain, through the API's narrow JSON-RPC gateway (`POST /chain/rpc`): what a wallet without a
 * node of its own (the built-in wallet) needs to send its contract transactions, and receipts.
 * Transactions and calls must go to the Custos contract; the API refuses anything else.
 *
 * ```ts
 * const nonce = BigInt(await rpc.call<string>('eth_getTransactionCount', [address, 'pending']));
 * ```
 */
@Injectable({ providedIn: 'root' })
export class ChainRpc {
  private readonly api = inject(ApiClient);
  private nextId = 1;

  /** One call; rejects with `ChainRpcError` for a JSON-RPC error, `ApiError` when the API refused it. */
  async call<T>(method: GatewayMethod, params: readonly unknown[] = []): Promise<T> {
    const answer = await this.api.post<JsonRpcAnswer<T>>('/chain/rpc', {
      jsonrpc: '2.0',
      id: this.nextId++,
      method,
      params,
    });
    if (answer.error) {
      const data = typeof answer.error.data === 'string' ? answer.error.data : undefined;
      throw new ChainRpcError(answer.error.code, answer.error.message, data);
    }
    return answer.result as T;
  }

  /** The receipt of a transaction, or `null` while it is not mined. */
  receipt(hash: string): Promise<TransactionReceipt | null> {
    return this.call<TransactionReceipt | null>('eth_getTransactionReceipt', [hash]);
  }
}
