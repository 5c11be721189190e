// The chain mirror against a real node (anvil): contract logs become domain events in the SQLite event
// store, once each, after their confirmations; a reorg is detected and named; an outage is survived.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  chainStream,
  consentStream,
  type ChainMirrorEvent,
  directoryStream,
  emergencyStream,
  mirrorStream,
  type RecordedEvent,
} from '@custos/domain';
import { id as keccakText, type JsonRpcProvider, Transaction, ZeroHash } from 'ethers';
import {
  categoryId,
  ChainMirror,
  type ChainMirrorOptions,
  type ChainReader,
  createChainProvider,
  type MirrorSink,
} from '../../libs/chain/src';
import { eventStoreSink, mirrorHealth } from '../../apps/api/src/chain/chain.module';
import type { EventStore } from '../../apps/api/src/event-store/event-store.port';
import { SqliteEventStore } from '../../apps/api/src/event-store/sqlite.event-store';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from './anvil';

const DAY = 86_400;
const lower = (value: string) => value.toLowerCase();

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function newStore(): EventStore {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-mirror-'));
  const store = new SqliteEventStore({ dataDir, pollIntervalMs: 10 });
  cleanups.push(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return store;
}

function reader(url: string): JsonRpcProvider {
  const provider = createChainProvider(url, ANVIL_CHAIN_ID, { timeoutMs: 2_000 });
  cleanups.push(() => provider.destroy());
  return provider;
}

function mirrorFor(
  d: Deployed,
  store: EventStore,
  url: string,
  options: Partial<ChainMirrorOptions> = {},
): ChainMirror {
  const mirror = new ChainMirror({
    reader: reader(url),
    sink: eventStoreSink(store),
    contract: d.address,
    chainId: ANVIL_CHAIN_ID,
    startBlock: d.deployBlock,
    pollIntervalMs: 20,
    ...options,
  });
  cleanups.push(() => mirror.stop(0));
  return mirror;
}

async function allEvents(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
}

/** Ids of the events the mirror appended for contract logs, in store order. */
async function mirroredIds(store: EventStore): Promise<string[]> {
  return (await allEvents(store)).filter((e) => e.metadata.chain).map((e) => e.id);
}

/** `txHash:logIndex` of every log of the contract, in chain order. */
async function chainLogIds(d: Deployed): Promise<string[]> {
  const logs = await d.provider.getLogs({ address: d.address, fromBlock: d.deployBlock, toBlock: 'latest' });
  return logs.map((log) => `${lower(log.transactionHash)}:${log.index}`);
}

async function expiresIn(d: Deployed, seconds: number): Promise<number> {
  return (await d.provider.getBlock('latest'))!.timestamp + seconds;
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the chain mirror, on anvil', () => {
  let anvil: Anvil;
  before(async () => {
    anvil = await startAnvil();
    cleanups.push(() => anvil.close());
  });

  /** A contract with account #1 as provider; account #2 is the patient. */
  async function setUp() {
    const d = await deployContract(anvil.url);
    cleanups.push(() => d.close());
    const provider = d.account(1);
    const patient = d.account(2);
    await (await d.contract.grantRole(await d.contract.PROVIDER_ROLE(), provider.address)).wait();
    return { d, provider, patient, store: newStore() };
  }

  test('a grant and a revoke made on the contract become ConsentGranted / ConsentRevoked in the patient stream', async () => {
    const { d, provider, patient, store } = await setUp();
    const expiresAt = await expiresIn(d, 30 * DAY);
    const category = categoryId('medications');
    const granted = (await (await d.as(patient).grantAccess(provider.address, category, expiresAt)).wait())!;
    const revoked = (await (await d.as(patient).revokeAccess(provider.address, category)).wait())!;

    const result = await mirrorFor(d, store, anvil.url).poll();
    assert.equal(result.mirroredBlock, revoked.blockNumber);

    const events = await store.readStream(consentStream(lower(patient.address)));
    assert.deepEqual(
      events.map((e) => [e.type, e.data]),
      [
        [
          'ConsentGranted',
          {
            patient: lower(patient.address),
            provider: lower(provider.address),
            category: 'medications',
            expiresAt,
          },
        ],
        [
          'ConsentRevoked',
          { patient: lower(patient.address), provider: lower(provider.address), category: 'medications' },
        ],
      ],
    );
    for (const [event, receipt] of [
      [events[0]!, granted],
      [events[1]!, revoked],
    ] as const) {
      const log = receipt.logs[0]!;
      assert.equal(event.id, `${lower(receipt.hash)}:${log.index}`);
      assert.deepEqual(event.metadata.chain, {
        chainId: ANVIL_CHAIN_ID,
        blockNumber: receipt.blockNumber,
        blockHash: lower(receipt.blockHash),
        txHash: lower(receipt.hash),
        logIndex: log.index,
      });
      assert.equal(event.metadata.actor, 'chain');
      const block = (await d.provider.getBlock(receipt.blockNumber))!;
      assert.equal(event.metadata.occurredAt, new Date(block.timestamp * 1000).toISOString());
    }
  });

  test('roles feed the directory; emergency windows, records and pauses go to their streams', async () => {
    const { d, provider, patient, store } = await setUp();
    const [admin, staff, auditor] = [d.account(0), d.account(3), d.account(4)];
    await (await d.contract.grantRole(await d.contract.EMERGENCY_ROLE(), staff.address)).wait();
    await (await d.contract.grantRole(await d.contract.AUDITOR_ROLE(), auditor.address)).wait();
    await (await d.contract.revokeRole(await d.contract.AUDITOR_ROLE(), auditor.address)).wait();
    const reasonHash = keccakText('unconscious in the emergency room');
    const started = (await (await d.as(staff).emergencyAccess(patient.address, reasonHash)).wait())!;
    await (await d.as(patient).endEmergencyAccess(patient.address, staff.address)).wait();
    const recordId = keccakText('record-1');
    await (await d.as(patient).registerRecord(recordId, categoryId('lab_results'), ZeroHash)).wait();
    await (await d.contract.pause()).wait();
    await (await d.contract.unpause()).wait();

    await mirrorFor(d, store, anvil.url).poll();

    const dataOf = async (stream: string) =>
      (await store.readStream(stream)).map((e) => ({ type: e.type, ...(e.data as object) }));
    assert.deepEqual(await dataOf(directoryStream(lower(admin.address))), [
      { type: 'RoleGranted', account: lower(admin.address), role: 'admin' },
    ]);
    assert.deepEqual(await dataOf(directoryStream(lower(provider.address))), [
      { type: 'RoleGranted', account: lower(provider.address), role: 'provider' },
    ]);
    assert.deepEqual(await dataOf(directoryStream(lower(staff.address))), [
      { type: 'RoleGranted', account: lower(staff.address), role: 'emergency' },
    ]);
    assert.deepEqual(await dataOf(directoryStream(lower(auditor.address))), [
      { type: 'RoleGranted', account: lower(auditor.address), role: 'auditor' },
      { type: 'RoleRevoked', account: lower(auditor.address), role: 'auditor' },
    ]);
    const startedBlock = (await d.provider.getBlock(started.blockNumber))!;
    assert.deepEqual(await dataOf(emergencyStream(lower(patient.address))), [
      {
        type: 'EmergencyAccessStarted',
        patient: lower(patient.address),
        provider: lower(staff.address),
        reasonHash,
        expiresAt: startedBlock.timestamp + DAY,
      },
      {
        type: 'EmergencyAccessEnded',
        patient: lower(patient.address),
        provider: lower(staff.address),
        endedBy: lower(patient.address),
      },
    ]);
    assert.deepEqual(await dataOf(chainStream(d.address)), [
      {
        type: 'RecordRegistered',
        patient: lower(patient.address),
        recordId,
        category: 'lab_results',
        supersedes: null,
      },
      { type: 'ContractPaused', account: lower(admin.address) },
      { type: 'ContractUnpaused', account: lower(admin.address) },
    ]);
    // Every log once, nothing else.
    assert.deepEqual(await mirroredIds(store), await chainLogIds(d));
  });

  test('reading the same blocks again appends nothing', async () => {
    const { d, provider, patient, store } = await setUp();
    await (
      await d.as(patient).grantAccess(provider.address, categoryId('imaging'), await expiresIn(d, DAY))
    ).wait();
    const first = mirrorFor(d, store, anvil.url);
    await first.poll();
    const head = await store.headPosition();
    const count = (await allEvents(store)).length;

    // A second mirror without the checkpoint (nor a start block: it finds the deployment block by
    // the contract's code) reads every block again.
    const sink = eventStoreSink(store);
    const forgetful: MirrorSink = { append: sink.append, lastEvent: () => Promise.resolve(undefined) };
    const said: string[] = [];
    await mirrorFor(d, store, anvil.url, {
      sink: forgetful,
      startBlock: undefined,
      logger: { log: (m) => said.push(m) },
    }).poll();
    assert.ok(
      said.some((m) => m.includes(`from block ${d.deployBlock}`)),
      said.join('\n'),
    );
    assert.equal(await store.headPosition(), head);

    // Empty blocks add nothing either, and the first mirror's next poll has nothing to do.
    await anvil.rpc('anvil_mine', ['0x3']);
    const again = await first.poll();
    assert.equal(again.appended, 0);
    assert.equal((await allEvents(store)).length, count);
    assert.deepEqual(await mirroredIds(store), await chainLogIds(d));
  });

  test('a mirror stopped in the middle of a range and started again leaves no duplicates and no gaps', async () => {
    const { d, provider, patient, store } = await setUp();
    const categories = ['general', 'lab_results', 'imaging', 'medications', 'allergies', 'vitals'] as const;
    const expiresAt = await expiresIn(d, 10 * DAY);
    for (const name of categories) {
      await (await d.as(patient).grantAccess(provider.address, categoryId(name), expiresAt)).wait();
    }
    for (const name of categories.slice(0, 3)) {
      await (await d.as(patient).revokeAccess(provider.address, categoryId(name))).wait();
    }
    const expected = await chainLogIds(d);
    assert.equal(expected.length, 1 + 1 + categories.length + 3); // admin, provider, grants, revokes

    // The first mirror stops itself right after its 7th event, before that range's checkpoint.
    const sink = eventStoreSink(store);
    let appended = 0;
    const mirrors: ChainMirror[] = [];
    const stopping: MirrorSink = {
      lastEvent: sink.lastEvent,
      async append(stream, events) {
        await sink.append(stream, events);
        if (stream !== mirrorStream(d.address) && ++appended === 7) void mirrors[0]!.stop();
      },
    };
    const first = mirrorFor(d, store, anvil.url, { sink: stopping, maxBlockSpan: 3 });
    mirrors.push(first);
    first.start();
    await waitUntil('the first mirror stopped', () => first.status().state === 'stopped');
    await first.stop();
    const partial = await mirroredIds(store);
    assert.deepEqual(partial, expected.slice(0, 7));
    const checkpoint = (await store.readStream(mirrorStream(d.address))).at(-1)!;
    assert.ok((checkpoint.data as { toBlock: number }).toBlock < (await d.provider.getBlockNumber()));

    const second = mirrorFor(d, store, anvil.url, { maxBlockSpan: 3 });
    second.start();
    const head = await d.provider.getBlockNumber();
    await waitUntil('the second mirror caught up', () => second.status().mirroredBlock === head);
    await second.stop();
    assert.deepEqual(await mirroredIds(store), expected);
  });

  test('with CHAIN_CONFIRMATIONS=2 a log is mirrored only once a second block is on top of it', async () => {
    const { d, provider, patient, store } = await setUp();
    const mirror = mirrorFor(d, store, anvil.url, { confirmations: 2 });
    await mirror.poll();
    const granted = (await (
      await d.as(patient).grantAccess(provider.address, categoryId('vitals'), await expiresIn(d, DAY))
    ).wait())!;
    const consents = () => store.readStream(consentStream(lower(patient.address)));

    const early = await mirror.poll();
    assert.equal(early.head, granted.blockNumber);
    assert.equal(early.mirroredBlock, granted.blockNumber - 1);
    assert.deepEqual(await consents(), []);

    await anvil.rpc('anvil_mine', ['0x1']);
    const later = await mirror.poll();
    assert.equal(later.mirroredBlock, granted.blockNumber);
    assert.deepEqual(
      (await consents()).map((e) => e.type),
      ['ConsentGranted'],
    );
  });

  test('a reorg is detected: the orphaned events are named, and a re-included log is appended again', async () => {
    const { d, provider, patient, store } = await setUp();
    const mirror = mirrorFor(d, store, anvil.url);
    const granted = (await (
      await d.as(patient).grantAccess(provider.address, categoryId('telehealth'), await expiresIn(d, DAY))
    ).wait())!;
    const grantId = `${lower(granted.hash)}:${granted.logs[0]!.index}`;
    const raw = Transaction.from((await d.provider.getTransaction(granted.hash))!).serialized;
    await mirror.poll();
    assert.deepEqual(
      (await store.readStream(consentStream(lower(patient.address)))).map((e) => e.id),
      [grantId],
    );

    // The grant's block is replaced by an empty one.
    await anvil.rpc('anvil_reorg', [1, []]);
    const result = await mirror.poll();
    assert.equal(result.reorg, true);
    assert.equal(mirror.status().reorgs, 1);
    const reorg = (await store.readStream(mirrorStream(d.address))).at(-1)!;
    assert.equal(reorg.type, 'ChainReorgDetected');
    const data = reorg.data as Extract<ChainMirrorEvent, { type: 'ChainReorgDetected' }>['data'];
    assert.deepEqual(data.replaced, { number: granted.blockNumber, hash: lower(granted.blockHash) });
    assert.equal(data.forkBlock, granted.blockNumber - 1);
    assert.deepEqual(data.orphaned, [
      {
        id: grantId,
        stream: consentStream(lower(patient.address)),
        blockNumber: granted.blockNumber,
        blockHash: lower(granted.blockHash),
      },
    ]);

    // The same transaction comes back in a new block: appended again, under an id naming that block.
    await anvil.rpc('anvil_reorg', [1, [[raw, 0]]]);
    assert.equal((await mirror.poll()).reorg, true);
    const reincluded = (await d.provider.getTransactionReceipt(granted.hash))!;
    const events = await store.readStream(consentStream(lower(patient.address)));
    assert.deepEqual(
      events.map((e) => e.id),
      [grantId, `${grantId}@${lower(reincluded.blockHash)}`],
    );
    assert.equal(events[1]!.metadata.chain!.blockHash, lower(reincluded.blockHash));

    // And the mirror carries on.
    await (await d.as(patient).revokeAccess(provider.address, categoryId('telehealth'))).wait();
    await mirror.poll();
    assert.deepEqual(
      (await store.readStream(consentStream(lower(patient.address)))).map((e) => e.type),
      ['ConsentGranted', 'ConsentGranted', 'ConsentRevoked'],
    );
  });
});

describe('the chain mirror through an RPC outage', () => {
  test('it retries with growing delays while the node is down, reports degraded, then catches up', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'custos-anvil-state-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const state = path.join(stateDir, 'state.json');
    let anvil = await startAnvil({ state });
    cleanups.push(() => anvil.close());
    const d = await deployContract(anvil.url);
    cleanups.push(() => d.close());
    const [provider, patient] = [d.account(1), d.account(2)];
    await (await d.contract.grantRole(await d.contract.PROVIDER_ROLE(), provider.address)).wait();
    await (
      await d.as(patient).grantAccess(provider.address, categoryId('general'), await expiresIn(d, DAY))
    ).wait();

    // Record when the mirror asks for the head: the gaps between failed attempts are the backoff.
    const provider2 = reader(anvil.url);
    const attempts: number[] = [];
    const recording: ChainReader = {
      getBlockNumber: () => {
        attempts.push(Date.now());
        return provider2.getBlockNumber();
      },
      getBlock: (n) => provider2.getBlock(n),
      getLogs: (filter) => provider2.getLogs(filter),
    };
    const store = newStore();
    const mirror = mirrorFor(d, store, anvil.url, {
      reader: recording,
      pollIntervalMs: 20,
      backoff: { initialMs: 50, maxMs: 400 },
    });
    mirror.start();
    const head = await d.provider.getBlockNumber();
    await waitUntil('mirrored', () => mirror.status().mirroredBlock === head);
    assert.equal(mirrorHealth(mirror.status(), 1).status, 'up');

    await anvil.close();
    const failedFrom = attempts.length;
    await waitUntil('five failed polls', () => mirror.status().consecutiveFailures >= 5);
    const status = mirror.status();
    assert.equal(status.state, 'failing');
    assert.match(status.lastError ?? '', /ECONNREFUSED|connect|fetch|request/i);
    const health = mirrorHealth(status, 1);
    assert.equal(health.status, 'degraded');
    assert.match(health.detail ?? '', /mirror behind\/unreachable/);
    // 50, 100, 200, 400, 400 ms between attempts (a little timer slack allowed).
    const gaps = attempts
      .slice(failedFrom)
      .slice(1, 6)
      .map((t, i) => t - attempts[failedFrom + i]!);
    const expected = [50, 100, 200, 400];
    gaps.slice(0, 4).forEach((gap, i) => assert.ok(gap >= expected[i]! - 5, `gap ${i}: ${gap} ms`));
    assert.ok(
      gaps.every((gap) => gap < 400 + 250),
      `gaps ${gaps.join(', ')} ms`,
    );

    // The node comes back with its state; a grant made now is mirrored too, with nothing lost.
    anvil = await startAnvil({ port: anvil.port, state });
    cleanups.push(() => anvil.close());
    await (await d.as(patient).revokeAccess(provider.address, categoryId('general'))).wait();
    const newHead = await d.provider.getBlockNumber();
    await waitUntil('caught up', () => mirror.status().mirroredBlock === newHead, 15_000);
    assert.equal(mirror.status().state, 'running');
    assert.equal(mirror.status().consecutiveFailures, 0);
    assert.equal(mirrorHealth(mirror.status(), 1).status, 'up');
    await mirror.stop();
    assert.deepEqual(await mirroredIds(store), await chainLogIds(d));
    assert.deepEqual(
      (await store.readStream(consentStream(lower(patient.address)))).map((e) => e.type),
      ['ConsentGranted', 'ConsentRevoked'],
    );
  });

  test('a node restarted without its state (a reset chain) is handled as a reorg back to the deployment', async () => {
    let anvil = await startAnvil();
    cleanups.push(() => anvil.close());
    const store = newStore();
    const run = async (category: 'general' | 'imaging') => {
      // Two chains started in the same second would have the same first blocks: make the second differ.
      if (category === 'imaging') {
        await anvil.rpc('evm_setNextBlockTimestamp', [Math.floor(Date.now() / 1000) + 3600]);
      }
      const d = await deployContract(anvil.url);
      cleanups.push(() => d.close());
      const [provider, patient] = [d.account(1), d.account(2)];
      await (await d.contract.grantRole(await d.contract.PROVIDER_ROLE(), provider.address)).wait();
      await (
        await d.as(patient).grantAccess(provider.address, categoryId(category), await expiresIn(d, DAY))
      ).wait();
      return { d, provider, patient, ids: await chainLogIds(d) };
    };
    const before = await run('general');
    const errors: string[] = [];
    const options = { logger: { error: (m: string) => errors.push(m) } };
    await mirrorFor(before.d, store, anvil.url, options).poll();

    await anvil.close();
    anvil = await startAnvil({ port: anvil.port });
    cleanups.push(() => anvil.close());
    // The same deployer and nonces: the same contract address, and the same hashes for identical transactions.
    const after = await run('imaging');
    assert.equal(after.d.address, before.d.address);
    const result = await mirrorFor(after.d, store, anvil.url, options).poll();
    assert.equal(result.reorg, true);
    assert.match(errors.join(), /was the chain reset/);

    const reorg = (await store.readStream(mirrorStream(after.d.address))).find(
      (e) => e.type === 'ChainReorgDetected',
    )!;
    const data = reorg.data as Extract<ChainMirrorEvent, { type: 'ChainReorgDetected' }>['data'];
    assert.equal(data.forkBlock, after.d.deployBlock - 1);
    assert.deepEqual(
      data.orphaned.map((o) => o.id),
      before.ids,
    );
    // What the new chain holds is mirrored; identical transactions are appended again under new ids.
    const hashOf = async (block: number) => lower((await after.d.provider.getBlock(block))!.hash!);
    const [, roleId, grantId] = after.ids;
    const roleBlock = (await after.d.provider.getTransactionReceipt(roleId!.split(':')[0]!))!.blockNumber;
    assert.equal(roleId, before.ids[1]);
    assert.deepEqual(
      (await store.readStream(directoryStream(lower(after.provider.address)))).map((e) => e.id),
      [roleId, `${roleId}@${await hashOf(roleBlock)}`],
    );
    const consents = await store.readStream(consentStream(lower(after.patient.address)));
    assert.deepEqual(
      consents.map((e) => [e.id, (e.data as { category: string }).category]),
      [
        [before.ids[2], 'general'],
        [grantId, 'imaging'],
      ],
    );
  });
});
