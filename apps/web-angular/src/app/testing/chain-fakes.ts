/**
 * A fake chain behind `POST /chain/rpc` and `GET /chain/signing-context` for the specs of the
 * screens that send their own transactions (admin, emergency): answers every pending request of the
 * HttpTestingController, keeps the raw transactions sent (decoded with ethers) and mines them.
 */
import { HttpTestingController, type TestRequest } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Transaction } from 'ethers';

import { CHAIN_ID, CONTRACT } from './test-helpers';

export interface FakeLog {
  readonly address: string;
  readonly topics: string[];
  readonly data: string;
}

export interface FakeChainOptions {
  /** Logs of the receipt of a sent transaction. */
  readonly logs?: (tx: Transaction) => FakeLog[];
  /** Revert data for `eth_estimateGas` (the call is refused), or `null` to accept. */
  readonly estimateRevert?: string | null;
  /** `eth_call` answers. */
  readonly call?: (params: { to: string; data: string }) => string;
  /** Receipt status (`0x1` by default). */
  readonly status?: string;
}

/** Every JSON-RPC call received, in order. */
export interface RpcCall {
  readonly method: string;
  readonly params: unknown[];
}

export class FakeChain {
  readonly calls: RpcCall[] = [];
  /** Signed raw transactions received with `eth_sendRawTransaction`, decoded. */
  readonly sent: Transaction[] = [];
  signingContextReads = 0;
  /** Hashes of transactions sent elsewhere (by a wallet extension) that count as mined. */
  readonly mined = new Set<string>();

  constructor(private readonly options: FakeChainOptions = {}) {}

  /** Answers every pending chain request; returns how many it answered. */
  answerPending(): number {
    const http = TestBed.inject(HttpTestingController);
    let answered = 0;
    for (const request of http.match((r) => r.url === '/chain/signing-context')) {
      this.signingContextReads++;
      request.flush({ chainId: CHAIN_ID, contract: CONTRACT, nonce: 0 });
      answered++;
    }
    for (const request of http.match((r) => r.url === '/chain/rpc' && r.method === 'POST')) {
      this.answer(request);
      answered++;
    }
    return answered;
  }

  /** Answers chain requests until `condition()` holds. */
  async until(condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
    const start = Date.now();
    while (!condition()) {
      this.answerPending();
      if (condition()) return;
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  private answer(request: TestRequest): void {
    const body = request.request.body as { id: number; method: string; params?: unknown[] };
    const params = body.params ?? [];
    this.calls.push({ method: body.method, params });
    const ok = (result: unknown) => request.flush({ jsonrpc: '2.0', id: body.id, result });
    switch (body.method) {
      case 'eth_estimateGas':
        if (this.options.estimateRevert) {
          request.flush({
            jsonrpc: '2.0',
            id: body.id,
            error: { code: 3, message: 'execution reverted', data: this.options.estimateRevert },
          });
          return;
        }
        return ok('0xea60'); // 60,000
      case 'eth_getTransactionCount':
        return ok('0x7');
      case 'eth_gasPrice':
        return ok('0x77359400'); // 2 gwei
      case 'eth_maxPriorityFeePerGas':
        return ok('0x3b9aca00'); // 1 gwei
      case 'eth_chainId':
        return ok(`0x${CHAIN_ID.toString(16)}`);
      case 'eth_sendRawTransaction': {
        const tx = Transaction.from(String(params[0]));
        this.sent.push(tx);
        return ok(tx.hash);
      }
      case 'eth_getTransactionReceipt': {
        if (this.mined.has(String(params[0]))) {
          return ok({
            transactionHash: params[0],
            blockNumber: '0x2a',
            to: CONTRACT,
            status: this.options.status ?? '0x1',
            logs: [],
          });
        }
        const tx = this.sent.find((t) => t.hash === params[0]);
        if (!tx) return ok(null);
        return ok({
          transactionHash: tx.hash,
          blockNumber: '0x2a',
          to: tx.to?.toLowerCase() ?? null,
          status: this.options.status ?? '0x1',
          logs: this.options.logs?.(tx) ?? [],
        });
      }
      case 'eth_call':
        return ok(this.options.call?.(params[0] as { to: string; data: string }) ?? '0x');
      default:
        request.flush({ jsonrpc: '2.0', id: body.id, error: { code: -32601, message: 'not faked' } });
    }
  }
}
