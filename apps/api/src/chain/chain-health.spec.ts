import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkChain } from './chain-health.module';

let server: Server;
let url: string;
before(async () => {
  // A stand-in JSON-RPC node answering eth_chainId with 31337 (0x7a69).
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: '0x7a69' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

test('a reachable node on the configured chain is up', async () => {
  assert.deepEqual(await checkChain(url, 31337), { status: 'up', detail: 'chain id 31337' });
});

test('a node on another chain, or no node at all, makes the API degraded, not down', async () => {
  assert.equal((await checkChain(url, 1)).status, 'degraded');
  const unreachable = await checkChain('http://127.0.0.1:1', 31337);
  assert.deepEqual(unreachable, { status: 'degraded', detail: 'chain node unreachable' });
});
