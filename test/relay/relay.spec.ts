// The relay against a real node (anvil): patients' EIP-712 signatures in over HTTP, checked against the
// chain before any gas is spent, sent by the relayer (anvil account #0, which also deployed the contract
// and administers it) one transaction at a time, several intents in one multicall, progress as events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { categoryId, consentDomain, consentTypedData } from '../../libs/chain/src';
import { RelayWorker } from '../../apps/api/src/relay/relay.worker';
import type { RelayView } from '../../apps/api/src/relay/relay.dto';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from '../chain/anvil';
import { DAY, TestApi, until as waitUntil } from '../api/harness';

let anvil: Anvil;
let d: Deployed;
let api: TestApi;
let PROVIDER_ROLE: string;
const providerA = Wallet.createRandom();
const providerB = Wallet.createRandom();
const lower = (a: string) => a.toLowerCase();
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The relay waits on blocks and receipts: a longer wait than the harness default. */
const until = <T>(what: string, probe: () => Promise<T | undefined | null | false>) =>
  waitUntil(what, probe, 15_000);

async function patientUser(): Promise<{ wallet: Wallet; address: string; token: string }> {
  const wallet = Wallet.createRandom() as unknown as Wallet;
  return { wallet, address: lower(wallet.address), token: await api.signIn(wallet) };
}

async function signGrant(
  wallet: Wallet,
  provider: string,
  category: 'lab_results' | 'imaging',
  nonce?: number,
) {
  const expiresAt = nowSeconds() + 30 * DAY;
  const deadline = nowSeconds() + 3600;
  const n = nonce ?? Number(await d.contract.nonces(wallet.address));
  const data = consentTypedData('Grant', consentDomain(ANVIL_CHAIN_ID, d.address), {
    patient: wallet.address,
    provider,
    category: categoryId(category),
    expiresAt,
    nonce: n,
    deadline,
  });
  const signature = await wallet.signTypedData(data.domain, data.types, data.message);
  return {
    patient: lower(wallet.address),
    provider: lower(provider),
    category,
    expiresAt,
    deadline,
    signature,
  };
}

async function relayOutcome(id: string, token: string): Promise<RelayView> {
  return until(`relay ${id}`, async () => {
    const res = await api.get(`/consents/relays/${id}`, token);
    assert.equal(res.statusCode, 200, res.body);
    const view = res.json<RelayView>();
    return view.status === 'confirmed' || view.status === 'failed' ? view : undefined;
  });
}

async function isMirroredProvider(address: string, expected: boolean) {
  await until(`directory: ${address} provider=${expected}`, async () => {
    const entry = await api.readModels.get<{ id: string; isProvider: boolean }>('directory', lower(address));
    return (entry?.isProvider ?? false) === expected;
  });
}

async function relayerNonces() {
  const relayer = d.admin.address;
  return {
    latest: await d.provider.getTransactionCount(relayer, 'latest'),
    pending: await d.provider.getTransactionCount(relayer, 'pending'),
  };
}

before(async () => {
  anvil = await startAnvil();
  d = await deployContract(anvil.url);
  PROVIDER_ROLE = await d.contract.PROVIDER_ROLE();
  await (await d.contract.grantRole(PROVIDER_ROLE, providerA.address)).wait();
  await (await d.contract.grantRole(PROVIDER_ROLE, providerB.address)).wait();
  api = await TestApi.start({
    CHAIN_RPC_URL: anvil.url,
    CONTRACT_ADDRESS: d.address,
    CHAIN_ID: String(ANVIL_CHAIN_ID),
    CHAIN_POLL_INTERVAL: '100ms',
    CHAIN_CONFIRMATIONS: '1',
  });
  // The roles reach the directory through the chain mirror.
  await isMirroredProvider(providerA.address, true);
  await isMirroredProvider(providerB.address, true);
});

after(async () => {
  await api?.close();
  d?.close();
  await anvil?.close();
});

describe('relay: signed consents relayed to the contract', () => {
  let patient: Awaited<ReturnType<typeof patientUser>>;
  let grantBody: Awaited<ReturnType<typeof signGrant>>;

  test('the worker runs with the relayer account when there is a contract', () => {
    const worker = api.app.get(RelayWorker);
    assert.equal(worker.running, true);
    assert.equal(worker.relayer, d.admin.address);
  });

  test('a signed grant → 202 submitted → confirmed; the chain says access is active', async () => {
    patient = await patientUser();
    grantBody = await signGrant(patient.wallet, providerA.address, 'lab_results');
    const res = await api.post('/consents/grants', grantBody, patient.token);
    assert.equal(res.statusCode, 202, res.body);
    const accepted = res.json<{ id: string; status: string }>();
    assert.equal(accepted.status, 'submitted');
    const view = await relayOutcome(accepted.id, patient.token);
    assert.equal(view.status, 'confirmed', JSON.stringify(view));
    assert.equal(view.kind, 'grant');
    assert.match(view.txHash ?? '', /^0x[0-9a-f]{64}$/);
    assert.equal(typeof view.blockNumber, 'number');
    assert.equal(view.reason, null);
    assert.equal(
      await d.contract.hasActiveAccess(patient.address, providerA.address, categoryId('lab_results')),
      true,
    );
    const types = (await api.events())
      .filter((e) => e.stream === `consent-${patient.address}`)
      .map((e) => e.type);
    for (const type of [
      'ConsentGrantSubmitted',
      'ConsentRelaySent',
      'ConsentRelayMined',
      'ConsentRelayConfirmed',
    ]) {
      assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
    }
    // The mirror brings the contract's AccessGranted back: the provider sees the patient.
    const providerToken = await api.signIn(providerA);
    await until('the provider to see the patient', async () => {
      const res = await api.get('/providers/me/patients', providerToken);
      assert.equal(res.statusCode, 200, res.body);
      return res
        .json<{ items: { patient: string; category: string }[] }>()
        .items.some((i) => i.patient === patient.address && i.category === 'lab_results');
    });
  });

  test('the same signature again is refused (nonce used) before any transaction', async () => {
    const before = await relayerNonces();
    const res = await api.post('/consents/grants', grantBody, patient.token);
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json<{ code: string }>().code, 'nonce_used');
    assert.deepEqual(await relayerNonces(), before);
  });

  test("another wallet's signature → 400 naming nonce, chain and contract; nothing appended", async () => {
    const forged = await signGrant(
      Wallet.createRandom() as unknown as Wallet,
      providerA.address,
      'imaging',
      1,
    );
    const head = await api.eventStore.headPosition();
    const res = await api.post('/consents/grants', { ...forged, patient: patient.address }, patient.token);
    assert.equal(res.statusCode, 400, res.body);
    assert.match(
      res.json<{ message: string }>().message,
      new RegExp(
        `signature does not match the patient for nonce 1 on chain ${ANVIL_CHAIN_ID} / contract ${d.address}`,
      ),
    );
    // Only chain facts (the mirror's) may have been appended meanwhile: nothing for this request.
    const appended = (await api.events(head)).filter(
      (e) => !e.metadata.chain && e.stream.startsWith('consent-'),
    );
    assert.deepEqual(
      appended.map((e) => e.type),
      [],
    );
  });

  test('a signed consent for someone else → 403; a provider without the role → 400; a past deadline → 400', async () => {
    const other = await patientUser();
    const res = await api.post('/consents/grants', grantBody, other.token);
    assert.equal(res.statusCode, 403, res.body);
    const notProvider = await signGrant(patient.wallet, Wallet.createRandom().address, 'imaging');
    const res2 = await api.post('/consents/grants', notProvider, patient.token);
    assert.equal(res2.statusCode, 400, res2.body);
    assert.match(res2.body, /provider is not a registered provider/);
    const late = {
      ...(await signGrant(patient.wallet, providerA.address, 'imaging')),
      deadline: nowSeconds() - 10,
    };
    const res3 = await api.post('/consents/grants', late, patient.token);
    assert.equal(res3.statusCode, 400, res3.body);
    assert.match(res3.body, /deadline passed/);
    // Someone else's relay is not shown.
    const mine = (await api.events()).find((e) => e.type === 'ConsentGrantSubmitted')!;
    const res4 = await api.get(`/consents/relays/${(mine.data as { relayId: string }).relayId}`, other.token);
    assert.equal(res4.statusCode, 404);
  });

  test('a signed revoke → confirmed; the chain says access ended', async () => {
    // The grant must be known to the consent stream first: the mirror brings it.
    await until('mirrored grant', async () => {
      const res = await api.get('/patients/me/consents', patient.token);
      return res.json<{ status: string }[]>().some((c) => c.status === 'active');
    });
    const nonce = Number(await d.contract.nonces(patient.address));
    const deadline = nowSeconds() + 3600;
    const data = consentTypedData('Revoke', consentDomain(ANVIL_CHAIN_ID, d.address), {
      patient: patient.wallet.address,
      provider: providerA.address,
      category: categoryId('lab_results'),
      nonce,
      deadline,
    });
    const signature = await patient.wallet.signTypedData(data.domain, data.types, data.message);
    const body = {
      patient: patient.address,
      provider: lower(providerA.address),
      category: 'lab_results',
      deadline,
      signature,
    };
    const res = await api.post('/consents/revocations', body, patient.token);
    assert.equal(res.statusCode, 202, res.body);
    const view = await relayOutcome(res.json<{ id: string }>().id, patient.token);
    assert.equal(view.status, 'confirmed', JSON.stringify(view));
    assert.equal(view.kind, 'revoke');
    assert.equal(
      await d.contract.hasActiveAccess(patient.address, providerA.address, categoryId('lab_results')),
      false,
    );
    const again = await api.post('/consents/revocations', body, patient.token);
    assert.equal(again.statusCode, 400, again.body);
    // Mirrored back: the provider no longer sees the patient.
    const providerToken = await api.signIn(providerA);
    await until('the provider to lose the patient', async () => {
      const res = await api.get('/providers/me/patients', providerToken);
      return !res.json<{ items: { patient: string }[] }>().items.some((i) => i.patient === patient.address);
    });
  });

  test('5 patients at once: all confirmed, in fewer transactions than relays; the relayer nonce is not stuck', async () => {
    const patients = await Promise.all([1, 2, 3, 4, 5].map(() => patientUser()));
    const bodies = await Promise.all(
      patients.map((p) => signGrant(p.wallet, providerA.address, 'imaging', 0)),
    );
    const responses = await Promise.all(
      patients.map((p, i) => api.post('/consents/grants', bodies[i], p.token)),
    );
    for (const res of responses) assert.equal(res.statusCode, 202, res.body);
    const views = await Promise.all(
      responses.map((res, i) => relayOutcome(res.json<{ id: string }>().id, patients[i]!.token)),
    );
    for (const view of views) assert.equal(view.status, 'confirmed', JSON.stringify(view));
    const txs = new Set(views.map((v) => v.txHash));
    assert.ok(txs.size < views.length, `${txs.size} transactions for ${views.length} relays`);
    for (const p of patients) {
      assert.equal(
        await d.contract.hasActiveAccess(p.address, providerA.address, categoryId('imaging')),
        true,
      );
    }
    const nonces = await relayerNonces();
    assert.equal(nonces.pending, nonces.latest);
  });

  test('the relayer account used elsewhere meanwhile: the worker re-reads its nonce and carries on', async () => {
    // Account #0 is also the admin: a transaction of its own makes the worker's next nonce stale.
    await (await d.contract.grantRole(PROVIDER_ROLE, Wallet.createRandom().address)).wait();
    const p = await patientUser();
    const res = await api.post(
      '/consents/grants',
      await signGrant(p.wallet, providerA.address, 'imaging'),
      p.token,
    );
    assert.equal(res.statusCode, 202, res.body);
    const view = await relayOutcome(res.json<{ id: string }>().id, p.token);
    assert.equal(view.status, 'confirmed', JSON.stringify(view));
    const nonces = await relayerNonces();
    assert.equal(nonces.pending, nonces.latest);
  });

  test("one bad intent among good ones (provider's role removed before sending): it fails with the reason, the others go out together", async () => {
    const worker = api.app.get(RelayWorker);
    await worker.stop();
    try {
      const good = await Promise.all([1, 2, 3].map(() => patientUser()));
      const bad = await patientUser();
      const submit = async (p: typeof bad, provider: string) => {
        const res = await api.post(
          '/consents/grants',
          await signGrant(p.wallet, provider, 'lab_results'),
          p.token,
        );
        assert.equal(res.statusCode, 202, res.body);
        return res.json<{ id: string }>().id;
      };
      const goodIds = [];
      for (const p of good) goodIds.push(await submit(p, providerA.address));
      const badId = await submit(bad, providerB.address);
      // Between submit and send, the admin removes provider B's role on-chain.
      await (await d.contract.revokeRole(PROVIDER_ROLE, providerB.address)).wait();
      worker.start();
      const badView = await relayOutcome(badId, bad.token);
      assert.equal(badView.status, 'failed');
      assert.equal(badView.reason, 'NotAProvider');
      assert.equal(badView.txHash, null, 'the bad intent was never sent');
      const goodViews = await Promise.all(goodIds.map((id, i) => relayOutcome(id, good[i]!.token)));
      for (const view of goodViews) assert.equal(view.status, 'confirmed', JSON.stringify(view));
      assert.equal(
        new Set(goodViews.map((v) => v.txHash)).size,
        1,
        'the good ones went out in one multicall',
      );
      assert.equal(
        await d.contract.hasActiveAccess(bad.address, providerB.address, categoryId('lab_results')),
        false,
      );
    } finally {
      worker.start();
    }
  });
  test('a restart while a transaction is pending: the relay is resolved from its receipt, never sent twice', async () => {
    const p = await patientUser();
    await anvil.rpc('evm_setAutomine', [false]);
    try {
      const res = await api.post(
        '/consents/grants',
        await signGrant(p.wallet, providerA.address, 'imaging'),
        p.token,
      );
      assert.equal(res.statusCode, 202, res.body);
      const id = res.json<{ id: string }>().id;
      const sent = await until('sent', async () => {
        const view = (await api.get(`/consents/relays/${id}`, p.token)).json<RelayView>();
        return view.txHash ? view : undefined;
      });
      assert.equal(sent.status, 'submitted');
      const before = await relayerNonces();
      assert.equal(before.pending, before.latest + 1, 'one transaction pending');
      await api.reopen(); // the worker stops while waiting for the receipt, and a new one starts
      await anvil.rpc('evm_mine');
      const view = await relayOutcome(id, await api.signIn(p.wallet));
      assert.equal(view.status, 'confirmed', JSON.stringify(view));
      assert.equal(view.txHash, sent.txHash);
      assert.equal(api.app.get(RelayWorker).sentTransactions, 0, 'the new worker sent nothing');
      const nonces = await relayerNonces();
      assert.deepEqual(nonces, { latest: before.pending, pending: before.pending });
    } finally {
      await anvil.rpc('evm_setAutomine', [true]);
    }
  });
});
