import { FetchRequest, JsonRpcProvider, Network } from 'ethers';

export interface ChainProviderOptions {
  /** How long one JSON-RPC request may take (ms). Default 10 s. */
  timeoutMs?: number;
}

/**
 * An ethers JSON-RPC provider for an http(s) endpoint of a known chain: the network is static (no
 * chain-id probe that retries for ever when the node is away), every request has a timeout, and
 * answers are never cached, so a poll right after a reorg sees the new chain.
 */
export function createChainProvider(
  rpcUrl: string,
  chainId: number,
  options: ChainProviderOptions = {},
): JsonRpcProvider {
  const request = new FetchRequest(rpcUrl);
  request.timeout = options.timeoutMs ?? 10_000;
  const network = Network.from(chainId);
  return new JsonRpcProvider(request, network, { staticNetwork: network, cacheTimeout: -1 });
}
