// Issue 8, part 1: a crash loses nothing and duplicates nothing. Under sustained command load from a
// separate process (patients relaying signed grants, providers asking for consent, patients declining,
// both sides of conversations sending messages), the API is killed with SIGKILL and started again on
// the same data folder while the load goes on. Then:
// - every command answered 2xx has its events exactly once (found by the id the API answered with or
//   the one the client chose), and no command, answered or not, has them twice;
// - the read models equal a rebuild of every projection from zero, document for document;
// - every accepted relay ends confirmed or failed with a reason, no signed intent is in two of the
//   relayer's transactions, and each confirmed grant is one AccessGranted log on the chain.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RecordedEvent } from '@custos/domain';
import { Wallet } from 'ethers';
import { categoryId } from '../../libs/chain/src';
import type { ConsentRelayDocument } from '../../apps/api/src/projections/read-models';
import { HttpClient, type Person, signGrant, sleep } from './client';
import {
  accessGrantedCounts,
  type ApiProcess,
  type Chain,
  countBy,
  forkGenerator,
  inspectDataFolder,
  nextRelayerTransaction,
  relayerTransactions,
  type RelayerTransaction,
  signIn,
  signInMany,
  startApi,
  startChain,
  temporaryFolder,
  until,
} from './harness';
import type { Conversation, RequestRecord } from './load-generator';

/** Load before the kill: long enough for every kind of command to be in flight when it lands. */
const LOAD_BEFORE_KILL_MS = 3_000;
/**
 * Then the kill waits for the relayer's next relay transaction and lands the moment it is mined: while
 * the API records, relay by relay, that they were sent (the window in which the chain knows more than
 * the event store). If none comes within this long, the kill lands anyway.
 */
const KILL_WAIT_MS = 8_000;
/** Load after the API answers again. */
const LOAD_AFTER_RESTART_MS = 3_000;
const LANES = 8;
const GRANT_PATIENTS = 200;

describe('crash: kill -9 the API under load and start it again', () => {
  const folder = temporaryFolder('custos-reliability-crash-');
  let chain: Chain;
  let api: ApiProcess;
  let client: HttpClient;
  let records: RequestRecord[] = [];
  let events: RecordedEvent[] = [];
  let live: Awaited<ReturnType<typeof inspectDataFolder>>['live'];
  let rebuilt: Awaited<ReturnType<typeof inspectDataFolder>>['rebuilt'];
  let transactions: RelayerTransaction[] = [];
  let downtimeMs = 0;
  let killedAfter: { hash: string; intents: number } | undefined;

  const answered = (op: RequestRecord['op'], ok: (status: number) => boolean) =>
    records.filter((r) => r.op === op && ok(r.status));
  const is2xx = (status: number) => status >= 200 && status < 300;

  before(async () => {
    const providerWallets = Array.from({ length: 4 }, () => Wallet.createRandom());
    chain = await startChain(
      folder.dir,
      providerWallets.map((w) => w.address),
    );
    api = await startApi(path.join(folder.dir, 'data'), {
      chain,
      // Audit anchors share the relayer account (and its nonce) with the relays.
      env: { AUDIT_ANCHOR_INTERVAL: '2s' },
    });
    client = new HttpClient(api.url);
    const providers: Person[] = [];
    for (const wallet of providerWallets) providers.push(await signIn(client, wallet));
    // The roles reach the directory through the chain mirror.
    for (const provider of providers) {
      await until('the provider role to be mirrored', async () => {
        const me = await client.get('/auth/me', provider.token);
        return me.status === 200 && me.json<{ roles: string[] }>().roles.includes('provider');
      });
    }

    // Conversations under messaging grants relayed through the API (nonce 0 of each of their patients).
    const messagingPatients = await signInMany(client, 6);
    const conversations: Conversation[] = [];
    for (const [i, patient] of messagingPatients.entries()) {
      const provider = providers[i % providers.length]!;
      const grant = await client.post(
        '/consents/grants',
        await signGrant(chain.deployed.address, patient, provider.address, 'messaging', 0),
        patient.token,
      );
      assert.equal(grant.status, 202, grant.body);
      await until('the messaging grant to be mirrored', async () => {
        const consents = await client.get('/patients/me/consents', patient.token);
        return consents
          .json<{ category: string; status: string }[]>()
          .some((c) => c.category === 'messaging');
      });
      const started = await client.post(
        '/conversations',
        { patient: patient.address, providers: [provider.address] },
        patient.token,
      );
      assert.equal(started.status, 201, started.body);
      conversations.push({ id: started.json<{ id: string }>().id, patient, provider });
    }
    const patients = [...messagingPatients, ...(await signInMany(client, 10))];
    const grantPatients = await signInMany(client, GRANT_PATIENTS);

    const load = await forkGenerator(folder.dir);
    const generator = await load.start({
      baseUrl: api.url,
      contract: chain.deployed.address,
      mode: { kind: 'mixed', lanes: LANES },
      weights: { grant: 3, request: 3, decline: 1, message: 4, readConsents: 1, readMessages: 1 },
      patients,
      providers,
      conversations,
      grantPatients,
    });
    await sleep(LOAD_BEFORE_KILL_MS);
    killedAfter = await nextRelayerTransaction(chain, 1, KILL_WAIT_MS);
    const killedAt = Date.now();
    await api.kill9();
    await sleep(300);
    await api.restart();
    downtimeMs = Date.now() - killedAt;
    await sleep(LOAD_AFTER_RESTART_MS);
    records = await generator.stop();
    load.close();

    // Every accepted relay settles; the mirror brings each confirmed grant back.
    for (const record of answered('grant', (s) => s === 202)) {
      const patient = grantPatients.find((p) => p.address === record.sent!.patient)!;
      const view = await until(
        `relay ${record.id} to settle`,
        async () => {
          const res = await client.get(`/consents/relays/${record.id}`, patient.token);
          const relay = res.json<{ status: string }>();
          return relay.status === 'confirmed' || relay.status === 'failed' ? relay : undefined;
        },
        60_000,
        200,
      );
      if (view.status === 'confirmed') {
        await until('the grant to be mirrored', async () => {
          const res = await client.get('/patients/me/consents', patient.token);
          return res.json<{ category: string }[]>().some((c) => c.category === record.sent!.category);
        });
      }
    }
    transactions = await relayerTransactions(chain);
    await api.stop();
    ({ events, live, rebuilt } = await inspectDataFolder(api.dataDir));

    const table = (['grant', 'request', 'decline', 'message', 'readConsents', 'readMessages'] as const).map(
      (op) => ({
        op,
        sent: records.filter((r) => r.op === op).length,
        '2xx': answered(op, is2xx).length,
        '4xx': answered(op, (s) => s >= 400 && s < 500).length,
        '5xx': answered(op, (s) => s >= 500).length,
        'no answer': answered(op, (s) => s === 0).length,
      }),
    );
    console.log(
      `# crash: API killed with SIGKILL under load ${
        killedAfter
          ? `the moment its transaction ${killedAfter.hash.slice(0, 10)}... with ${killedAfter.intents} relays was mined`
          : 'at a moment with no relay transaction'
      }, answering again ${downtimeMs} ms later`,
    );
    console.table(table);
    const relays = (live.consent_relays ?? []) as unknown as ConsentRelayDocument[];
    console.log(
      `# crash: ${events.length} events; relays ${relays.filter((r) => r.status === 'confirmed').length} confirmed, ` +
        `${relays.filter((r) => r.status === 'failed').length} failed; ${transactions.length} relayer transactions`,
    );
  });

  after(async () => {
    client?.close();
    await api?.stop();
    await chain?.close();
    folder.cleanUp();
  });

  test('the load reached the API on both sides of the crash, with no 5xx', () => {
    const killed = records.findIndex((r) => r.status === 0);
    assert.ok(killed > 0, 'some requests went unanswered while the API was down');
    const answeredAfter = records.slice(killed).filter((r) => r.status !== 0);
    assert.ok(answeredAfter.length > 50, `${answeredAfter.length} answers after the restart`);
    for (const op of ['grant', 'request', 'message'] as const) {
      assert.ok(answered(op, is2xx).length > 5, `${op}: few accepted`);
    }
    const serverErrors = records.filter((r) => r.status >= 500);
    assert.deepEqual(
      serverErrors.map((r) => `${r.op} ${r.status} ${r.code ?? ''}`),
      [],
    );
  });

  test('every 2xx command has its events exactly once; none has them twice', () => {
    const check = (
      op: RequestRecord['op'],
      type: string,
      field: string,
      key: (r: RequestRecord) => string,
    ) => {
      const counts = countBy(events, type, field);
      for (const record of records.filter((r) => r.op === op)) {
        const count = counts.get(key(record)) ?? 0;
        if (is2xx(record.status))
          assert.equal(count, 1, `${op} answered ${record.status}: ${type} ×${count}`);
        else assert.ok(count <= 1, `${op} answered ${record.status}: ${type} ×${count}`);
      }
      for (const [value, count] of counts)
        assert.ok(count <= 1, `${type} ${field}=${String(value)} ×${count}`);
    };
    check('grant', 'ConsentGrantSubmitted', 'signature', (r) => r.sent!.signature!);
    check('request', 'ConsentRequested', 'requestId', (r) => r.id ?? '-');
    check('decline', 'ConsentRequestDeclined', 'requestId', (r) => r.sent!.requestId!);
    check('message', 'MessageSent', 'messageId', (r) => r.sent!.messageId!);
    // A relay accepted (202) is the one in the store: same relay id.
    const relayIds = countBy(events, 'ConsentGrantSubmitted', 'relayId');
    for (const record of answered('grant', (s) => s === 202)) assert.equal(relayIds.get(record.id), 1);
    // No event has been stored twice.
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);
    // Nothing came from nowhere: requests the client never got an answer for account for the rest.
    const unanswered = (op: RequestRecord['op']) => answered(op, (s) => s === 0).length;
    const requested = events.filter((e) => e.type === 'ConsentRequested').length;
    assert.ok(requested <= answered('request', is2xx).length + unanswered('request'));
    const sent = events.filter((e) => e.type === 'MessageSent').length;
    assert.ok(sent <= answered('message', is2xx).length + unanswered('message'));
  });

  test('every read model equals a rebuild from zero, document for document', () => {
    assert.deepEqual(Object.keys(rebuilt).sort(), Object.keys(live).sort());
    for (const collection of Object.keys(live)) {
      assert.deepEqual(live[collection], rebuilt[collection], collection);
    }
    assert.ok((live.consent_requests ?? []).length > 0);
    assert.ok((live.messages ?? []).length > 0);
  });

  test('every accepted relay is confirmed or failed with a reason', () => {
    const relays = new Map(
      ((live.consent_relays ?? []) as unknown as ConsentRelayDocument[]).map((r) => [r.id, r]),
    );
    for (const record of answered('grant', (s) => s === 202)) {
      const relay = relays.get(record.id!);
      assert.ok(relay, `relay ${record.id}`);
      assert.ok(relay.status === 'confirmed' || relay.status === 'failed', `${relay.id}: ${relay.status}`);
      if (relay.status === 'failed') assert.ok(relay.reason, `${relay.id} failed without a reason`);
    }
  });

  test('no relay is sent twice on-chain; each confirmed grant is one AccessGranted', async () => {
    const inTransactions = new Map<string, RelayerTransaction[]>();
    for (const tx of transactions) {
      for (const signature of tx.signatures) {
        inTransactions.set(signature, [...(inTransactions.get(signature) ?? []), tx]);
      }
    }
    for (const [signature, txs] of inTransactions) {
      assert.equal(
        txs.length,
        1,
        `a signature in ${txs.length} transactions: ${txs.map((t) => t.hash).join(', ')} (${signature.slice(0, 12)}...)`,
      );
    }
    const relays = (live.consent_relays ?? []) as unknown as ConsentRelayDocument[];
    const submitted = new Map(
      events
        .filter((e) => e.type === 'ConsentGrantSubmitted')
        .map((e) => [
          (e.data as { relayId: string }).relayId,
          e.data as { signature: string; patient: string; grants: { provider: string; category: string }[] },
        ]),
    );
    const granted = await accessGrantedCounts(chain);
    for (const relay of relays) {
      const intent = submitted.get(relay.id);
      if (!intent) continue; // not a grant
      const txs = inTransactions.get(intent.signature.toLowerCase()) ?? [];
      const executed = txs.some((t) => t.succeeded);
      assert.equal(
        relay.status === 'confirmed',
        executed,
        `relay ${relay.id} is ${relay.status}, executed on-chain: ${executed}`,
      );
      if (executed) {
        const { provider, category } = intent.grants[0]!;
        const key = `${intent.patient}|${provider}|${categoryId(category as 'general')}`;
        assert.equal(granted.get(key), 1, `AccessGranted for ${key}`);
      }
    }
    const relayer = chain.deployed.admin.address;
    const { provider } = chain.deployed;
    assert.equal(
      await provider.getTransactionCount(relayer, 'pending'),
      await provider.getTransactionCount(relayer, 'latest'),
      'no relayer transaction left pending',
    );
  });
});
