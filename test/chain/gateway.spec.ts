// The chain as the web app reaches it through the API (anvil): the EIP-712 signing context, the
// admin's chain status, and the narrow JSON-RPC gateway a built-in browser wallet uses to send its own
// contract transactions, which refuses anything not addressed to our contract on our chain.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HDNodeWallet, Transaction, Wallet } from 'ethers';
import type { ChainStatus, SigningContext } from '../../apps/api/src/chain-gateway/chain-gateway.controller';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from './anvil';
import { TestApi, until } from '../api/harness';

let anvil: Anvil;
let d: Deployed;
let api: TestApi;
let admin: HDNodeWallet;
let adminToken: string;

async function rpc(method: string, params: unknown[], token: string | null = adminToken) {
  const res = await api.request('POST', '/chain/rpc', {
    token,
    body: { jsonrpc: '2.0', id: 7, method, params },
  });
  return res;
}

before(async () => {
  anvil = await startAnvil();
  d = await deployContract(anvil.url);
  admin = d.account(0);
  api = await TestApi.start({
    CHAIN_RPC_URL: anvil.url,
    CONTRACT_ADDRESS: d.address,
    CHAIN_ID: String(ANVIL_CHAIN_ID),
    CHAIN_POLL_INTERVAL: '100ms',
    CHAIN_CONFIRMATIONS: '1',
    AUDIT_ANCHOR_INTERVAL: '0',
  });
  await until('the admin mirrored', async () => {
    const entry = await api.readModels.get<{ id: string; isAdmin: boolean }>(
      'directory',
      admin.address.toLowerCase(),
    );
    return entry?.isAdmin === true;
  });
  adminToken = await api.signIn(admin);
});

after(async () => {
  await api?.close();
  d?.close();
  await anvil?.close();
});

describe('the chain gateway for browser wallets', () => {
  test("signing context: the chain, the contract and the caller's own next nonce", async () => {
    const patient = Wallet.createRandom();
    const res = await api.get('/chain/signing-context', await api.signIn(patient));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json<SigningContext>(), { chainId: ANVIL_CHAIN_ID, contract: d.address, nonce: 0 });
    assert.equal((await api.get('/chain/signing-context')).statusCode, 401);
  });

  test('the admin registers a provider with a transaction signed in the browser and sent through the API', async () => {
    const provider = Wallet.createRandom().address;
    const role = await d.contract.PROVIDER_ROLE();
    const data = d.contract.interface.encodeFunctionData('grantRole', [role, provider]);
    const hex = (r: Awaited<ReturnType<typeof rpc>>) => {
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json<{ id: number; result?: string; error?: unknown }>();
      assert.equal(body.id, 7);
      assert.ok(body.result !== undefined, r.body);
      return body.result;
    };
    const nonce = Number(hex(await rpc('eth_getTransactionCount', [admin.address, 'pending'])));
    const gas = BigInt(hex(await rpc('eth_estimateGas', [{ from: admin.address, to: d.address, data }]))!);
    const gasPrice = BigInt(hex(await rpc('eth_gasPrice', []))!);
    const chainId = Number(hex(await rpc('eth_chainId', [])));
    const raw = await admin.signTransaction({
      to: d.address,
      data,
      nonce,
      gasLimit: gas * 2n,
      gasPrice,
      chainId,
    });
    const txHash = hex(await rpc('eth_sendRawTransaction', [raw]))!;
    await until('the receipt', async () => {
      const body = (await rpc('eth_getTransactionReceipt', [txHash])).json<{
        result: { status: string } | null;
      }>();
      return body.result?.status === '0x1';
    });
    assert.equal(await d.contract.hasRole(role, provider), true);
    // Mirrored: the admin console's list shows the new provider.
    await until('the provider listed', async () => {
      const res = await api.get('/directory/accounts', adminToken, { role: 'provider' });
      assert.equal(res.statusCode, 200, res.body);
      return res
        .json<{ items: { address: string }[] }>()
        .items.some((i) => i.address === provider.toLowerCase());
    });
  });

  test('anything not for our contract on our chain is refused with 400; unknown methods too', async () => {
    const elsewhere = Wallet.createRandom().address;
    const raw = await admin.signTransaction({
      to: elsewhere,
      value: 1n,
      nonce: 0,
      gasLimit: 21_000n,
      gasPrice: 1n,
      chainId: ANVIL_CHAIN_ID,
    });
    const wrongTo = await rpc('eth_sendRawTransaction', [raw]);
    assert.equal(wrongTo.statusCode, 400);
    assert.match(wrongTo.body, /must go to the contract/);
    const otherChain = Transaction.from({
      to: d.address,
      nonce: 0,
      gasLimit: 50_000n,
      gasPrice: 1n,
      chainId: 1,
    });
    const signed = await admin.signTransaction(otherChain);
    const wrongChain = await rpc('eth_sendRawTransaction', [signed]);
    assert.equal(wrongChain.statusCode, 400);
    assert.match(wrongChain.body, /not 31337/);
    const call = await rpc('eth_call', [{ to: elsewhere, data: '0x' }, 'latest']);
    assert.equal(call.statusCode, 400);
    const method = await rpc('debug_traceTransaction', ['0x00']);
    assert.equal(method.statusCode, 400);
    assert.match(method.body, /method must be one of/);
    assert.equal((await rpc('eth_blockNumber', [], null)).statusCode, 401);
  });

  test('chain status for the admin only: head, not paused, mirror running, relayer balance', async () => {
    const res = await api.get('/chain/status', adminToken);
    assert.equal(res.statusCode, 200, res.body);
    const status = res.json<ChainStatus>();
    assert.equal(status.chainId, ANVIL_CHAIN_ID);
    assert.equal(status.contract, d.address);
    assert.equal(status.paused, false);
    assert.equal(status.mirror?.state, 'running');
    assert.equal(status.headBlock, await d.provider.getBlockNumber());
    assert.ok(BigInt(status.relayer.balanceWei!) > 0n);
    const patientToken = await api.signIn(Wallet.createRandom());
    assert.equal((await api.get('/chain/status', patientToken)).statusCode, 403);
  });
});
