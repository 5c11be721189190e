// Issue 8, part 2: the chain node goes away while relays and mirroring are under way. A burst of
// patients' signed grants is submitted and the node is stopped (its state kept) the moment the first is
// accepted. While it is down: reads answer 200 from the projections, commands that need no chain still
// work, /health says `degraded` naming the chain, accepted relays wait in the queue, and a new signed
// consent is refused with 503 naming the chain (its nonce cannot be checked, nothing is recorded). The
// node comes back on the same port and state: every queued relay completes, each once on-chain, the
// refused ones go through when sent again, and the mirror catches up.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { categoryId } from '../../libs/chain/src';
import type { HealthReport } from '../../apps/api/src/health/health.service';
import type { ConsentRelayDocument } from '../../apps/api/src/projections/read-models';
import type { RelayView } from '../../apps/api/src/relay/relay.dto';
import { type HttpAnswer, HttpClient, type Person, signGrant, sleep } from './client';
import {
  accessGrantedCounts,
  type ApiProcess,
  type Chain,
  inspectDataFolder,
  relayerTransactions,
  signIn,
  signInMany,
  startApi,
  startChain,
  temporaryFolder,
  until,
} from './harness';

const BURST = 20;
/** How long the node stays down: several mirror polls and relay rounds. */
const OUTAGE_MS = 3_000;

describe('chain outage: the node stops during relays and mirroring, then comes back', () => {
  const folder = temporaryFolder('custos-reliability-outage-');
  let chain: Chain;
  let api: ApiProcess;
  let client: HttpClient;
  let providers: Person[];
  let early: Person;
  let conversation: string;
  let burst: Person[];
  let burstBodies: Awaited<ReturnType<typeof signGrant>>[];
  let burstAnswers: HttpAnswer[];
  const accepted = new Map<string, Person>(); // relay id → patient

  const relayView = async (id: string, patient: Person) =>
    (await client.get(`/consents/relays/${id}`, patient.token)).json<RelayView>();
  const health = async () => (await client.get('/health')).json<HealthReport>();

  before(async () => {
    const providerWallets = Array.from({ length: 3 }, () => Wallet.createRandom());
    chain = await startChain(
      folder.dir,
      providerWallets.map((w) => w.address),
    );
    api = await startApi(path.join(folder.dir, 'data'), { chain });
    client = new HttpClient(api.url);
    providers = [];
    for (const wallet of providerWallets) providers.push(await signIn(client, wallet));
    for (const provider of providers) {
      await until('the provider role to be mirrored', async () => {
        const me = await client.get('/auth/me', provider.token);
        return me.json<{ roles: string[] }>().roles.includes('provider');
      });
    }
    // Before the outage: a patient who granted messaging, and a conversation under it.
    early = (await signInMany(client, 1))[0]!;
    const grant = await client.post(
      '/consents/grants',
      await signGrant(chain.deployed.address, early, providers[0]!.address, 'messaging', 0),
      early.token,
    );
    assert.equal(grant.status, 202, grant.body);
    await until('the messaging grant to be mirrored', async () => {
      const res = await client.get('/patients/me/consents', early.token);
      return res.json<{ category: string }[]>().some((c) => c.category === 'messaging');
    });
    const started = await client.post(
      '/conversations',
      { patient: early.address, providers: [providers[0]!.address] },
      early.token,
    );
    assert.equal(started.status, 201, started.body);
    conversation = started.json<{ id: string }>().id;

    // The burst, and the node stopped the moment the first relay is accepted.
    burst = await signInMany(client, BURST);
    burstBodies = await Promise.all(
      burst.map((p, i) =>
        signGrant(chain.deployed.address, p, providers[i % providers.length]!.address, 'lab_results', 0),
      ),
    );
    let stopping: Promise<void> | undefined;
    burstAnswers = await Promise.all(
      burst.map(async (patient, i) => {
        const res = await client.post('/consents/grants', burstBodies[i], patient.token);
        if (res.status === 202) {
          accepted.set(res.json<{ id: string }>().id, patient);
          stopping ??= chain.stop();
        }
        return res;
      }),
    );
    await stopping;
  });

  after(async () => {
    client?.close();
    await api?.stop();
    await chain?.close();
    folder.cleanUp();
  });

  test('each signed grant of the burst is accepted (202) or refused with 503 naming the chain', () => {
    assert.ok(accepted.size >= 1);
    for (const res of burstAnswers) {
      if (res.status === 202) continue;
      assert.equal(res.status, 503, res.body);
      assert.match(res.json<{ message: string }>().message, /chain/);
    }
    console.log(
      `# chain outage: ${accepted.size} of ${BURST} relays accepted before the node stopped, ` +
        `${BURST - accepted.size} refused with 503`,
    );
  });

  test('while the node is down: reads answer, /health is degraded naming the chain, relays queue', async () => {
    assert.equal(chain.up, false);
    const downSince = Date.now();
    const report = await until('/health to say the chain is down', async () => {
      const res = await client.get('/health');
      assert.equal(res.status, 200, 'degraded, not down: the API serves');
      const body = res.json<HealthReport>();
      return body.status === 'degraded' && body.components.chain?.status !== 'up' ? body : undefined;
    });
    assert.match(report.components.chain!.detail ?? '', /unreachable|no answer/);
    console.log(`# chain outage: /health ${JSON.stringify(report.components)}`);

    const consents = await client.get('/patients/me/consents', early.token);
    assert.equal(consents.status, 200, consents.body);
    assert.ok(consents.json<{ category: string; status: string }[]>().some((c) => c.status === 'active'));
    const patients = await client.get('/providers/me/patients', providers[0]!.token);
    assert.equal(patients.status, 200, patients.body);
    const messages = await client.get(`/conversations/${conversation}/messages`, early.token);
    assert.equal(messages.status, 200, messages.body);

    // Commands that need no chain are taken.
    const request = await client.post(
      '/consent-requests',
      {
        patient: early.address,
        category: 'imaging',
        purpose: 'Follow-up imaging',
        durationSeconds: 7 * 86400,
      },
      providers[1]!.token,
    );
    assert.equal(request.status, 201, request.body);
    const message = await client.post(
      `/conversations/${conversation}/messages`,
      {
        messageId: randomUUID(),
        kind: 'text',
        ciphertext: Buffer.alloc(64, 1).toString('base64url'),
        iv: Buffer.alloc(12, 2).toString('base64url'),
        wrappedKeys: {
          [early.address]: Buffer.alloc(92, 3).toString('base64url'),
          [providers[0]!.address]: Buffer.alloc(92, 4).toString('base64url'),
        },
      },
      early.token,
    );
    assert.equal(message.status, 201, message.body);

    // The accepted relays wait: none is lost, none has failed.
    const views = await Promise.all([...accepted].map(([id, patient]) => relayView(id, patient)));
    for (const view of views) assert.notEqual(view.status, 'failed', JSON.stringify(view));
    const queued = views.filter((v) => v.status === 'submitted').length;
    assert.ok(queued >= 1, 'at least one accepted relay was still waiting when the node stopped');
    console.log(
      `# chain outage: ${queued} of ${accepted.size} accepted relays queued while the node was down`,
    );

    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downSince)));
    assert.equal((await client.get('/patients/me/consents', early.token)).status, 200);
  });

  test('the node comes back: every relay completes, once on-chain; refused ones go through when sent again', async () => {
    const restarted = Date.now();
    await chain.restart();
    // The ones refused during the outage, sent again with the same signatures.
    for (const [i, res] of burstAnswers.entries()) {
      if (res.status === 202) continue;
      const again = await client.post('/consents/grants', burstBodies[i], burst[i]!.token);
      assert.equal(again.status, 202, again.body);
      accepted.set(again.json<{ id: string }>().id, burst[i]!);
    }
    assert.equal(accepted.size, BURST);
    for (const [id, patient] of accepted) {
      const view = await until(
        `relay ${id} to complete`,
        async () => {
          const v = await relayView(id, patient);
          return v.status === 'confirmed' || v.status === 'failed' ? v : undefined;
        },
        60_000,
        200,
      );
      assert.equal(view.status, 'confirmed', JSON.stringify(view));
    }
    const settledMs = Date.now() - restarted;

    const signatures = new Map<string, number>();
    for (const tx of await relayerTransactions(chain)) {
      for (const signature of tx.signatures) signatures.set(signature, (signatures.get(signature) ?? 0) + 1);
    }
    const granted = await accessGrantedCounts(chain);
    for (const [i, patient] of burst.entries()) {
      assert.equal(
        signatures.get(burstBodies[i]!.signature.toLowerCase()),
        1,
        `${patient.address}: sent once`,
      );
      const key = `${patient.address}|${burstBodies[i]!.provider}|${categoryId('lab_results')}`;
      assert.equal(granted.get(key), 1, `${key}: one AccessGranted`);
    }
    const relayer = chain.deployed.admin.address;
    assert.equal(
      await chain.deployed.provider.getTransactionCount(relayer, 'pending'),
      await chain.deployed.provider.getTransactionCount(relayer, 'latest'),
    );

    // The mirror catches up: each provider sees the patients who granted them, /health is ok again.
    for (const [p, provider] of providers.entries()) {
      const expected = burst.filter((_, i) => i % providers.length === p).map((b) => b.address);
      await until(`provider ${p} to see the burst's patients`, async () => {
        const res = await client.get('/providers/me/patients?limit=100', provider.token);
        const seen = new Set(res.json<{ items: { patient: string }[] }>().items.map((i) => i.patient));
        return expected.every((a) => seen.has(a));
      });
    }
    const report = await until('/health to be ok again', async () => {
      const body = await health();
      return body.status === 'ok' ? body : undefined;
    });
    assert.equal(report.components.chain?.status, 'up');
    console.log(`# chain outage: all ${BURST} relays confirmed ${settledMs} ms after the node came back`);
  });

  test('afterwards every read model equals a rebuild from zero', async () => {
    await api.stop();
    const { live, rebuilt } = await inspectDataFolder(api.dataDir);
    for (const collection of Object.keys(live)) {
      assert.deepEqual(live[collection], rebuilt[collection], collection);
    }
    const relays = (live.consent_relays ?? []) as unknown as ConsentRelayDocument[];
    assert.equal(relays.filter((r) => r.status === 'failed').length, 0);
  });
});
