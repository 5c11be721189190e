// A crash between sending a relay's transaction and recording it (found by the reliability suite's
// kill -9): the relay still waits to be sent, but its transaction is on-chain and its signature's nonce
// is used. The worker must find that transaction and record the relay as sent in it, not send it again
// and not call it failed; a relay whose nonce someone else used still fails with the contract's reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { categoryId, consentDomain, consentTypedData } from '../../libs/chain/src';
import { RelayChain } from '../../apps/api/src/relay/relay-chain';
import type { RelayView } from '../../apps/api/src/relay/relay.dto';
import { RelayerAccount } from '../../apps/api/src/relay/relayer-account';
import { RelayWorker } from '../../apps/api/src/relay/relay.worker';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from '../chain/anvil';
import { DAY, TestApi, until } from '../api/harness';

let anvil: Anvil;
let d: Deployed;
let api: TestApi;
const provider = Wallet.createRandom();
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function patientUser() {
  const wallet = Wallet.createRandom() as unknown as Wallet;
  return { wallet, address: wallet.address.toLowerCase(), token: await api.signIn(wallet) };
}

async function signGrant(wallet: Wallet, category: 'lab_results' | 'imaging') {
  const expiresAt = nowSeconds() + 30 * DAY;
  const deadline = nowSeconds() + 3600;
  const data = consentTypedData('Grant', consentDomain(ANVIL_CHAIN_ID, d.address), {
    patient: wallet.address,
    provider: provider.address,
    category: categoryId(category),
    expiresAt,
    nonce: 0,
    deadline,
  });
  const signature = await wallet.signTypedData(data.domain, data.types, data.message);
  return {
    patient: wallet.address.toLowerCase(),
    provider: provider.address.toLowerCase(),
    category,
    expiresAt,
    deadline,
    signature,
  };
}

const outcome = (id: string, token: string) =>
  until(
    `relay ${id}`,
    async () => {
      const view = (await api.get(`/consents/relays/${id}`, token)).json<RelayView>();
      return view.status === 'confirmed' || view.status === 'failed' ? view : undefined;
    },
    15_000,
  );

before(async () => {
  anvil = await startAnvil();
  d = await deployContract(anvil.url);
  await (await d.contract.grantRole(await d.contract.PROVIDER_ROLE(), provider.address)).wait();
  api = await TestApi.start({
    CHAIN_RPC_URL: anvil.url,
    CONTRACT_ADDRESS: d.address,
    CHAIN_ID: String(ANVIL_CHAIN_ID),
    CHAIN_POLL_INTERVAL: '100ms',
    CHAIN_CONFIRMATIONS: '1',
  });
  await until('the provider role to be mirrored', async () => {
    const entry = await api.readModels.get<{ id: string; isProvider: boolean }>(
      'directory',
      provider.address.toLowerCase(),
    );
    return entry?.isProvider;
  });
});

after(async () => {
  await api?.close();
  d?.close();
  await anvil?.close();
});

describe('relay: a transaction sent just before a crash, its relay not yet recorded as sent', () => {
  test('the relay is recorded as sent in that transaction and confirmed; nothing is sent again', async () => {
    const worker = api.app.get(RelayWorker);
    await worker.stop();
    const patient = await patientUser();
    const body = await signGrant(patient.wallet, 'lab_results');
    const res = await api.post('/consents/grants', body, patient.token);
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ id: string }>().id;

    // What the killed worker did: the relay's call sent from the relayer account, nothing recorded.
    const chain = api.app.get(RelayChain);
    const data = chain.encode({
      kind: 'grant',
      patient: body.patient,
      grants: [{ provider: body.provider, category: body.category, expiresAt: body.expiresAt }],
      batch: false,
      deadline: body.deadline,
      signature: body.signature,
    });
    const account = api.app.get(RelayerAccount);
    const gas = await d.provider.estimateGas({ from: account.address!, to: d.address, data });
    const txHash = await account.send(data, gas);
    await d.provider.waitForTransaction(txHash);
    const sentBefore = worker.sentTransactions;

    worker.start();
    const view = await outcome(id, patient.token);
    assert.equal(view.status, 'confirmed', JSON.stringify(view));
    assert.equal(view.txHash, txHash);
    assert.equal(worker.sentTransactions, sentBefore, 'nothing was sent again');
    const types = (await api.events())
      .filter((e) => e.stream === `consent-${patient.address}`)
      .map((e) => e.type);
    assert.equal(types.filter((t) => t === 'ConsentRelaySent').length, 1);
    assert.ok(!types.includes('ConsentRelayFailed'), types.join(', '));
  });

  test("a relay whose nonce another account's transaction used still fails with the contract's reason", async () => {
    const worker = api.app.get(RelayWorker);
    await worker.stop();
    try {
      const patient = await patientUser();
      const res = await api.post(
        '/consents/grants',
        await signGrant(patient.wallet, 'lab_results'),
        patient.token,
      );
      assert.equal(res.statusCode, 202, res.body);
      const id = res.json<{ id: string }>().id;
      // Another signature with the same nonce, relayed by someone else (anyone may relay a signature).
      const other = await signGrant(patient.wallet, 'imaging');
      const sender = d.as(d.account(1));
      await (
        await sender.grantAccessWithSig(
          other.patient,
          other.provider,
          categoryId('imaging'),
          other.expiresAt,
          other.deadline,
          other.signature,
        )
      ).wait();
      worker.start();
      const view = await outcome(id, patient.token);
      assert.equal(view.status, 'failed', JSON.stringify(view));
      assert.equal(view.reason, 'InvalidSignature');
      assert.equal(view.txHash, null);
    } finally {
      worker.start();
    }
  });
});
