import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in JSON-RPC node that answers `eth_chainId` only, for tests of the HTTP surface that need
 * /health to see a chain without running one. Tests of chain behaviour use a real node.
 */
export async function startChainStub(chainId = 31337): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: `0x${chainId.toString(16)}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
