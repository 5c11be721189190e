/**
 * Consent gate benchmark: the check the API's gates make, from the projection, against the guide's
 * way (an `eth_call` of `hasActiveAccess` to the node per check), on the same pairs in the same run,
 * and the time from a grant's block to the projection allowing it.
 * Run with `npm run bench:gate`. Exits 1 when a target is missed.
 *
 * The chain is a real anvil (test/chain/anvil.ts) with HealthRecordAccessControl deployed. Its logs
 * reach the projections through the real pipeline: ChainMirror -> SqliteEventStore -> ProjectionRunner
 * -> SqliteReadModelStore, in a temporary folder.
 *
 * - Checks per second: PAIRS (patient, provider, category) grants are made with `multicall` (automine),
 *   mirrored and projected. Then, in interleaved rounds, every pair is checked (a) from the projection:
 *   the consent document and the provider's directory document, then `isConsentActive` at now, as the
 *   API does; (b) with an `eth_call` of `hasActiveAccess` through an ethers contract. Both sequential
 *   (one check after the other, like a request handler) and with 16 checks in flight.
 *   Target: projection ≥ 20 × eth_call in both.
 * - Grant to allowed: anvil switches to interval mining (one block every BLOCK_SECONDS); GRANTS single
 *   `grantAccess` transactions are sent, one every ~0.7 s. A watcher polls the head every few ms and
 *   takes the time a block is first seen as its mined time; it polls the projection check of each
 *   pending grant every few ms. Latency: block seen -> check first says active. Measured for two
 *   mirrors at once on the same chain: the API default CHAIN_POLL_INTERVAL (1 s) and 200 ms.
 *   Target: p99 ≤ 1 block interval + 200 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { unixSeconds } from '@custos/domain';
import { FetchRequest, JsonRpcProvider, Network, Wallet } from 'ethers';
import {
  CATEGORY_NAMES,
  categoryId,
  ChainMirror,
  createChainProvider,
  HealthRecordAccessControl__factory,
} from '../libs/chain/src';
import { eventStoreSink } from '../apps/api/src/chain/chain.module';
import { isConsentActive } from '../apps/api/src/consent/consent.queries';
import { SqliteEventStore } from '../apps/api/src/event-store/sqlite.event-store';
import { ProjectionRunner } from '../apps/api/src/projections/projection-runner';
import {
  type ConsentDocument,
  consentId,
  type DirectoryDocument,
  PROJECTIONS,
} from '../apps/api/src/projections/read-models';
import { SqliteReadModelStore } from '../apps/api/src/read-models/sqlite.read-model';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from '../test/chain/anvil';
import { median, percentile, sleep } from './stats';

const PATIENT_ACCOUNTS = [2, 3, 4, 5, 6, 7, 8, 9];
const PROVIDERS = 20;
const PAIRS_PER_PATIENT = 25;
const PAIRS = PATIENT_ACCOUNTS.length * PAIRS_PER_PATIENT;
const ROUNDS = 5;
const PROJECTION_REPEATS = 10;
const CONCURRENCY = 16;
const RATIO_TARGET = 20;
const GRANTS = 30;
const SEND_EVERY_MS = 700;
const BLOCK_SECONDS = 1;
const LATENCY_SLACK_MS = 200;
/** The API's default CHAIN_POLL_INTERVAL (1s), and a faster setting. */
const MIRROR_POLLS_MS = [1_000, 200];
const WATCH_EVERY_MS = 3;
const DAY = 86_400;

interface Pair {
  patient: string;
  provider: string;
  category: (typeof CATEGORY_NAMES)[number];
}

const lower = (value: string) => value.toLowerCase();
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The k-th (provider, category) of a patient: distinct for k < 260 (20 providers × 13 categories). */
function pairAt(patient: string, providers: readonly string[], k: number): Pair {
  return {
    patient: lower(patient),
    provider: providers[k % providers.length] as string,
    category: CATEGORY_NAMES[k % CATEGORY_NAMES.length] as Pair['category'],
  };
}

// ---------------------------------------------------------------------------
// The pipeline: chain mirror -> SQLite event store -> projections -> SQLite read models.
// ---------------------------------------------------------------------------

interface Pipeline {
  pollMs: number;
  mirror: ChainMirror;
  readModels: SqliteReadModelStore;
  /** The gate's check, from the projection. */
  check(pair: Pair): Promise<boolean>;
  close(): Promise<void>;
}

async function openPipeline(d: Deployed, url: string, dataDir: string, pollMs: number): Promise<Pipeline> {
  const store = new SqliteEventStore({ dataDir });
  const readModels = await SqliteReadModelStore.open(dataDir);
  const runner = new ProjectionRunner(store, readModels, PROJECTIONS);
  await runner.start();
  const reader = createChainProvider(url, ANVIL_CHAIN_ID);
  const mirror = new ChainMirror({
    reader,
    sink: eventStoreSink(store),
    contract: d.address,
    chainId: ANVIL_CHAIN_ID,
    startBlock: d.deployBlock,
    confirmations: 1,
    pollIntervalMs: pollMs,
  });
  mirror.start();
  return {
    pollMs,
    mirror,
    readModels,
    async check(pair) {
      const consent = await readModels.get<ConsentDocument>(
        'consents',
        consentId(pair.patient, pair.provider, pair.category),
      );
      const directory = await readModels.get<DirectoryDocument>('directory', pair.provider);
      return isConsentActive(consent, directory, unixSeconds(new Date()));
    },
    async close() {
      await mirror.stop(0);
      reader.destroy();
      await runner.stop();
      await readModels.close();
      await store.close();
    },
  };
}

async function waitUntil(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------
// Part 1: checks per second.
// ---------------------------------------------------------------------------

/** Runs `checks` with `concurrency` in flight; returns checks per second. Throws on a denied check. */
async function rate(
  pairs: readonly Pair[],
  repeats: number,
  concurrency: number,
  check: (pair: Pair) => Promise<boolean>,
): Promise<number> {
  const total = pairs.length * repeats;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const pair = pairs[i % pairs.length] as Pair;
        if (!(await check(pair))) throw new Error(`check denied ${JSON.stringify(pair)}`);
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function throughput(
  pairs: readonly Pair[],
  concurrency: number,
  projection: (pair: Pair) => Promise<boolean>,
  ethCall: (pair: Pair) => Promise<boolean>,
): Promise<{ projection: number; ethCall: number }> {
  const p: number[] = [];
  const e: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      p.push(await rate(pairs, PROJECTION_REPEATS, concurrency, projection));
      e.push(await rate(pairs, 1, concurrency, ethCall));
    } else {
      e.push(await rate(pairs, 1, concurrency, ethCall));
      p.push(await rate(pairs, PROJECTION_REPEATS, concurrency, projection));
    }
  }
  return { projection: median(p), ethCall: median(e) };
}

// ---------------------------------------------------------------------------
// Part 2: grant to allowed.
// ---------------------------------------------------------------------------

async function grantToAllowed(
  anvil: Anvil,
  d: Deployed,
  providers: readonly string[],
  pipelines: readonly Pipeline[],
): Promise<{ latencies: number[][]; blocks: number }> {
  await anvil.rpc('evm_setIntervalMining', [BLOCK_SECONDS]);
  // Interval mining is on when the head moves by itself.
  const before = await d.provider.getBlockNumber();
  await waitUntil(
    'interval mining to start',
    async () => (await d.provider.getBlockNumber()) > before,
    5_000,
  );

  const blockSeenAt = new Map<number, number>();
  const activeAt = pipelines.map(() => new Map<number, number>());
  const pending: { index: number; pair: Pair }[] = [];
  let sending = true;
  /** Set when the measurement ends, however it ends: the watcher stops. */
  let abandoned = false;
  let watchError: unknown;

  const watcher = (async () => {
    try {
      let head = await anvil.rpc<string>('eth_blockNumber');
      blockSeenAt.set(Number(head), performance.now());
      while (!abandoned && (sending || pending.some((g) => activeAt.some((seen) => !seen.has(g.index))))) {
        head = await anvil.rpc<string>('eth_blockNumber');
        const n = Number(head);
        if (!blockSeenAt.has(n)) blockSeenAt.set(n, performance.now());
        for (const grant of pending) {
          for (const [i, pipeline] of pipelines.entries()) {
            const seen = activeAt[i] as Map<number, number>;
            if (!seen.has(grant.index) && (await pipeline.check(grant.pair)))
              seen.set(grant.index, performance.now());
          }
        }
        await sleep(WATCH_EVERY_MS);
      }
    } catch (error) {
      watchError = error;
    }
  })();

  const hashes: string[] = [];
  const deadline = Date.now() + 60_000;
  try {
    for (let i = 0; i < GRANTS; i++) {
      const patient = d.account(PATIENT_ACCOUNTS[i % PATIENT_ACCOUNTS.length] as number);
      // New pairs: each patient's first PAIRS_PER_PATIENT are taken by part 1.
      const pair = pairAt(
        patient.address,
        providers,
        PAIRS_PER_PATIENT + Math.floor(i / PATIENT_ACCOUNTS.length),
      );
      const expiresAt = (await d.provider.getBlock('latest'))!.timestamp + 30 * DAY;
      const tx = await d.as(patient).grantAccess(pair.provider, categoryId(pair.category), expiresAt);
      hashes.push(tx.hash);
      pending.push({ index: i, pair });
      await sleep(SEND_EVERY_MS * (0.75 + Math.random() * 0.5));
      if (watchError) throw watchError;
    }
  } catch (error) {
    abandoned = true;
    throw error;
  } finally {
    sending = false;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      watcher,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('timed out waiting for the grants to become active')),
          Math.max(0, deadline - Date.now()),
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    abandoned = true;
  }
  if (watchError) throw watchError;

  const minedIn: number[] = [];
  for (const hash of hashes) {
    const receipt = await d.provider.getTransactionReceipt(hash);
    if (!receipt || receipt.status !== 1) throw new Error(`grant ${hash} failed or was not mined`);
    minedIn.push(receipt.blockNumber);
  }
  const latencies = activeAt.map((seen) =>
    minedIn.map((block, i) => {
      const mined = blockSeenAt.get(block);
      if (mined === undefined) throw new Error(`block ${block} was not seen by the watcher`);
      return (seen.get(i) as number) - mined;
    }),
  );
  return { latencies, blocks: new Set(minedIn).size };
}

// ---------------------------------------------------------------------------

interface ResultRow {
  scenario: string;
  projection: string;
  ethCall: string;
  ratio: string;
  target: string;
  pass: boolean;
}

function printTable(rows: ResultRow[]): void {
  const header = {
    scenario: 'scenario',
    projection: 'projection',
    ethCall: 'eth_call',
    ratio: 'ratio',
    target: 'target',
  };
  const keys = ['scenario', 'projection', 'ethCall', 'ratio', 'target'] as const;
  const widths = Object.fromEntries(
    keys.map((k) => [k, Math.max(header[k].length, ...rows.map((r) => r[k].length))]),
  ) as Record<(typeof keys)[number], number>;
  const line = (r: Omit<ResultRow, 'pass'>, result: string) =>
    `${r.scenario.padEnd(widths.scenario)}  ${r.projection.padStart(widths.projection)}  ${r.ethCall.padStart(widths.ethCall)}  ${r.ratio.padStart(widths.ratio)}  ${r.target.padEnd(widths.target)}  ${result}`;
  console.log(line(header, 'result'));
  console.log('-'.repeat(line(header, 'result').length));
  for (const row of rows) console.log(line(row, row.pass ? 'PASS' : 'FAIL'));
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const root = mkdtempSync(path.join(tmpdir(), 'custos-bench-gate-'));
  const cleanups: (() => unknown)[] = [];
  try {
    const anvil = await startAnvil();
    cleanups.push(() => anvil.close());
    const d = await deployContract(anvil.url);
    cleanups.push(() => d.close());

    // Setup (automine): PROVIDERS providers registered in one multicall, then each patient grants its
    // PAIRS_PER_PATIENT pairs in one multicall.
    const providers = Array.from({ length: PROVIDERS }, () => lower(Wallet.createRandom().address));
    const role = await d.contract.PROVIDER_ROLE();
    const iface = d.contract.interface;
    await (
      await d.contract.multicall(providers.map((p) => iface.encodeFunctionData('grantRole', [role, p])))
    ).wait();
    const expiresAt = (await d.provider.getBlock('latest'))!.timestamp + 30 * DAY;
    const pairs: Pair[] = [];
    const txs = [];
    for (const index of PATIENT_ACCOUNTS) {
      const patient = d.account(index);
      const mine = Array.from({ length: PAIRS_PER_PATIENT }, (_, k) => pairAt(patient.address, providers, k));
      pairs.push(...mine);
      txs.push(
        d
          .as(patient)
          .multicall(
            mine.map((p) =>
              iface.encodeFunctionData('grantAccess', [p.provider, categoryId(p.category), expiresAt]),
            ),
          ),
      );
    }
    const receipts = await Promise.all((await Promise.all(txs)).map((tx) => tx.wait()));
    const lastBlock = Math.max(...receipts.map((r) => r!.blockNumber));

    const pipelines: Pipeline[] = [];
    for (const pollMs of MIRROR_POLLS_MS) {
      const pipeline = await openPipeline(d, anvil.url, path.join(root, `poll-${pollMs}`), pollMs);
      cleanups.push(() => pipeline.close());
      pipelines.push(pipeline);
    }
    const fast = pipelines[pipelines.length - 1] as Pipeline;
    await waitUntil('the mirror and projections have every grant', async () => {
      if ((fast.mirror.status().mirroredBlock ?? -1) < lastBlock) return false;
      for (const pair of pairs) if (!(await fast.check(pair))) return false;
      return true;
    });

    // The guide's way: an ethers contract on a provider that sends each request at once (no batching
    // stall), i.e. the fastest an ethers request handler gets.
    const network = Network.from(ANVIL_CHAIN_ID);
    const callProvider = new JsonRpcProvider(new FetchRequest(anvil.url), network, {
      staticNetwork: network,
      batchMaxCount: 1,
      cacheTimeout: -1,
    });
    cleanups.push(() => callProvider.destroy());
    const onChain = HealthRecordAccessControl__factory.connect(d.address, callProvider);
    const ethCall = (pair: Pair) =>
      onChain.hasActiveAccess(pair.patient, pair.provider, categoryId(pair.category));

    console.log(
      `Consent gate benchmark: projection check vs eth_call hasActiveAccess, Node ${process.version}, anvil on 127.0.0.1`,
    );
    console.log(
      `${PAIRS} pairs (${PATIENT_ACCOUNTS.length} patients × ${PROVIDERS} providers × ${CATEGORY_NAMES.length} categories) granted on chain with multicall (automine) and mirrored by the real ChainMirror -> SQLite event store -> projections -> SQLite read models.`,
    );
    console.log(`Checks/s: median of ${ROUNDS} interleaved rounds; every check must say active.\n`);

    // Warm-up.
    await rate(pairs, 2, 1, fast.check);
    await rate(pairs, 1, 1, ethCall);

    const sequential = await throughput(pairs, 1, fast.check, ethCall);
    const concurrent = await throughput(pairs, CONCURRENCY, fast.check, ethCall);

    const latency = await grantToAllowed(anvil, d, providers, pipelines);
    await anvil.rpc('evm_setAutomine', [true]);

    const latencyTarget = BLOCK_SECONDS * 1000 + LATENCY_SLACK_MS;
    const ratioRow = (scenario: string, r: { projection: number; ethCall: number }): ResultRow => {
      const ratio = r.projection / r.ethCall;
      return {
        scenario,
        projection: `${fmt(r.projection)} checks/s`,
        ethCall: `${fmt(r.ethCall)} checks/s`,
        ratio: `${ratio.toFixed(1)}×`,
        target: `≥ ${RATIO_TARGET}×`,
        pass: ratio >= RATIO_TARGET,
      };
    };
    const rows: ResultRow[] = [
      ratioRow(`consent check, sequential (${PAIRS} pairs)`, sequential),
      ratioRow(`consent check, ${CONCURRENCY} in flight (${PAIRS} pairs)`, concurrent),
      ...pipelines.map((pipeline, i): ResultRow => {
        const values = latency.latencies[i] as number[];
        const p99 = percentile(values, 99);
        return {
          scenario: `grant block -> allowed p50 / p99, ${GRANTS} grants, mirror poll ${pipeline.pollMs} ms${pipeline.pollMs === 1_000 ? ' (default)' : ''}`,
          projection: `${percentile(values, 50).toFixed(0)} / ${p99.toFixed(0)} ms`,
          ethCall: '—',
          ratio: '—',
          target: `p99 ≤ ${latencyTarget} ms`,
          pass: p99 <= latencyTarget,
        };
      }),
    ];
    printTable(rows);
    console.log(
      `\nBlock interval ${BLOCK_SECONDS} s (anvil interval mining) for the latency rows; ${latency.blocks} blocks held the ${GRANTS} grants; 1 confirmation (CHAIN_CONFIRMATIONS default). ` +
        `Latency is from the block first seen on the node (eth_blockNumber polled every ${WATCH_EVERY_MS} ms) to the projection check first saying active (polled as often).`,
    );
    console.log(
      `(max latency ${pipelines.map((p, i) => `${p.pollMs} ms poll: ${Math.max(...(latency.latencies[i] as number[])).toFixed(0)} ms`).join(', ')}; bench took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s)`,
    );
    const failed = rows.filter((r) => !r.pass);
    if (failed.length > 0) {
      console.log(`\n${failed.length} target(s) missed: ${failed.map((r) => r.scenario).join('; ')}`);
      process.exitCode = 1;
    } else {
      console.log('\nAll targets met.');
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(error);
      }
    }
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
