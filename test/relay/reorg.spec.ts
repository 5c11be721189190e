// Relays and chain reorganisations (anvil_reorg): a relay mined but not yet CHAIN_CONFIRMATIONS deep is
// not final. When a reorganisation drops its transaction the relay fails with a reason the patient can
// act on (and the relayer's nonce is not stuck); when it moves the transaction to another block, the
// depth counts from there.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Transaction, Wallet } from 'ethers';
import { categoryId, consentDomain, consentTypedData } from '../../libs/chain/src';
import type { RelayView } from '../../apps/api/src/relay/relay.dto';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from '../chain/anvil';
import { DAY, TestApi, until as waitUntil } from '../api/harness';

const CONFIRMATIONS = 4;
let anvil: Anvil;
let d: Deployed;
let api: TestApi;
const provider = Wallet.createRandom();
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The relay waits on blocks and receipts: a longer wait than the harness default. */
const until = <T>(what: string, probe: () => Promise<T | undefined | null | false>) =>
  waitUntil(what, probe, 15_000);

/** A new patient signs a grant for `provider`, relayed through the API; the relay's id and token. */
async function relayGrant(): Promise<{ id: string; token: string; patient: string }> {
  const wallet = Wallet.createRandom();
  const token = await api.signIn(wallet);
  const expiresAt = nowSeconds() + 30 * DAY;
  const deadline = nowSeconds() + 3600;
  const data = consentTypedData('Grant', consentDomain(ANVIL_CHAIN_ID, d.address), {
    patient: wallet.address,
    provider: provider.address,
    category: categoryId('lab_results'),
    expiresAt,
    nonce: 0,
    deadline,
  });
  const body = {
    patient: wallet.address.toLowerCase(),
    provider: provider.address.toLowerCase(),
    category: 'lab_results',
    expiresAt,
    deadline,
    signature: await wallet.signTypedData(data.domain, data.types, data.message),
  };
  const res = await api.post('/consents/grants', body, token);
  assert.equal(res.statusCode, 202, res.body);
  return { id: res.json<{ id: string }>().id, token, patient: body.patient };
}

async function relayIn(id: string, token: string, ...statuses: RelayView['status'][]): Promise<RelayView> {
  return until(`relay ${id} ${statuses.join('|')}`, async () => {
    const view = (await api.get(`/consents/relays/${id}`, token)).json<RelayView>();
    return statuses.includes(view.status) ? view : undefined;
  });
}

before(async () => {
  anvil = await startAnvil();
  d = await deployContract(anvil.url);
  await (await d.contract.grantRole(await d.contract.PROVIDER_ROLE(), provider.address)).wait();
  api = await TestApi.start({
    CHAIN_RPC_URL: anvil.url,
    CONTRACT_ADDRESS: d.address,
    CHAIN_ID: String(ANVIL_CHAIN_ID),
    CHAIN_POLL_INTERVAL: '100ms',
    CHAIN_CONFIRMATIONS: String(CONFIRMATIONS),
    // A relayer of its own, so that the test's admin transactions never share its nonce.
    RELAYER_PRIVATE_KEY: d.account(8).privateKey,
  });
  for (let i = 0; i < CONFIRMATIONS; i++) await anvil.rpc('evm_mine');
  await until('provider mirrored', async () => {
    const entry = await api.readModels.get<{ id: string; isProvider: boolean }>(
      'directory',
      provider.address.toLowerCase(),
    );
    return entry?.isProvider === true;
  });
});

after(async () => {
  await api?.close();
  d?.close();
  await anvil?.close();
});

describe('relays across chain reorganisations', () => {
  test('a mined relay whose transaction a reorganisation drops fails with a reason; the next relay goes through', async () => {
    const { id, token, patient } = await relayGrant();
    const mined = await relayIn(id, token, 'mined');
    assert.equal(mined.blockNumber, await d.provider.getBlockNumber());
    // The block holding the relay is replaced by an empty one; the transaction is gone.
    await anvil.rpc('anvil_reorg', [1, []]);
    const failed = await relayIn(id, token, 'failed', 'confirmed');
    assert.equal(failed.status, 'failed');
    assert.match(failed.reason ?? '', /dropped in a chain reorganisation/);
    assert.equal(
      await d.contract.hasActiveAccess(patient, provider.address, categoryId('lab_results')),
      false,
    );

    // The relayer's nonce was not left pointing past a transaction that no longer exists.
    const next = await relayGrant();
    await relayIn(next.id, next.token, 'mined');
    for (let i = 0; i < CONFIRMATIONS; i++) await anvil.rpc('evm_mine');
    assert.equal((await relayIn(next.id, next.token, 'confirmed', 'failed')).status, 'confirmed');
  });

  test('a transaction moved to another block by a reorganisation is confirmed from its new block', async () => {
    const { id, token } = await relayGrant();
    const mined = await relayIn(id, token, 'mined');
    const txHash = mined.txHash!;
    const raw = Transaction.from((await d.provider.getTransaction(txHash))!).serialized;
    // The last two blocks are replaced; the transaction lands in the first of them, a block earlier.
    await anvil.rpc('anvil_reorg', [2, [[raw, 0]]]);
    const moved = await until('the relay to follow its transaction', async () => {
      const view = (await api.get(`/consents/relays/${id}`, token)).json<RelayView>();
      return view.blockNumber === mined.blockNumber! - 1 ? view : undefined;
    });
    assert.equal(moved.status, 'mined');
    for (let i = 0; i < CONFIRMATIONS; i++) await anvil.rpc('evm_mine');
    const confirmed = await relayIn(id, token, 'confirmed', 'failed');
    assert.equal(confirmed.status, 'confirmed');
    assert.equal(confirmed.blockNumber, mined.blockNumber! - 1);
  });
});
