// What the reliability suites share: the real API as a process of its own (started from its TypeScript
// entry on a temporary data folder, so it can be killed with SIGKILL and started again on the same
// folder), a real chain (anvil with its state in a file, so it can be stopped and started again), a
// keep-alive HTTP client, Sign-In with Ethereum over HTTP, signed consents, and the checks run after a
// run: every event of the store, the read models against a rebuild from zero, and the relayer's
// transactions on the chain.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RecordedEvent } from '@custos/domain';
import { type HDNodeWallet, Wallet } from 'ethers';
import WebSocket from 'ws';
import { HealthRecordAccessControl__factory } from '../../libs/chain/src';
import { signIn as signInThroughApi } from '../../apps/api/src/auth/testing';
import { loadConfig } from '../../apps/api/src/config/load-config';
import { createEventStore } from '../../apps/api/src/event-store/event-store.factory';
import { ProjectionRunner } from '../../apps/api/src/projections/projection-runner';
import { PROJECTIONS } from '../../apps/api/src/projections/read-models';
import { createReadModelStore } from '../../apps/api/src/read-models/read-model.factory';
import { snapshot } from '../api/harness';
import {
  type Anvil,
  ANVIL_CHAIN_ID,
  type Deployed,
  deployContract,
  freePort,
  startAnvil,
} from '../chain/anvil';
import { HttpClient, lower, type Person, sleep } from './client';
import type { FromGenerator, Plan, RequestRecord, ToGenerator } from './load-generator';

export const ROOT = path.resolve(__dirname, '../..');

/** Polls `probe` every `everyMs` until it gives a truthy value, or fails after `ms` naming `what`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  ms = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error; // e.g. the API still starting: keep polling
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}

/** A temporary folder, removed by `cleanUp()` unless RELIABILITY_KEEP=1 (to look at after a failure). */
export function temporaryFolder(prefix: string): { dir: string; cleanUp(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    cleanUp: () => {
      if (process.env.RELIABILITY_KEEP === '1') console.log(`# kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function signIn(client: HttpClient, wallet: Wallet | HDNodeWallet): Promise<Person> {
  return {
    privateKey: wallet.privateKey,
    address: lower(wallet.address),
    token: await signInThroughApi(client.inject, wallet),
  };
}

/** `count` new wallets signed in, a few at a time. */
export async function signInMany(client: HttpClient, count: number): Promise<Person[]> {
  const people: Person[] = [];
  for (let i = 0; i < count; i += 8) {
    const batch = Array.from({ length: Math.min(8, count - i) }, () => Wallet.createRandom());
    people.push(...(await Promise.all(batch.map((w) => signIn(client, w)))));
  }
  return people;
}

// ------------------------------------------------------------------------------------------ chain

export interface Chain {
  url: string;
  port: number;
  stateFile: string;
  deployed: Deployed;
  /** Whether the node is running. */
  readonly up: boolean;
  /** Stops the node (SIGTERM: it writes its state) and waits for it. */
  stop(): Promise<void>;
  /** Starts the node again on the same port from its state file. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * anvil on a free port with its state in `<dir>/anvil-state.json`, the contract deployed by development
 * account #0 (the admin, and the API's default relayer), PROVIDER_ROLE given to `providers` and
 * ANCHOR_ROLE to the relayer. All of it before the API starts: account #0 then belongs to the relayer.
 */
export async function startChain(dir: string, providers: readonly string[] = []): Promise<Chain> {
  const port = await freePort();
  const stateFile = path.join(dir, 'anvil-state.json');
  let anvil: Anvil | null = await startAnvil({ port, state: stateFile });
  const deployed = await deployContract(anvil.url);
  const { contract } = deployed;
  const providerRole = await contract.PROVIDER_ROLE();
  for (const provider of providers) await (await contract.grantRole(providerRole, provider)).wait();
  await (await contract.grantRole(await contract.ANCHOR_ROLE(), deployed.admin.address)).wait();
  const url = anvil.url;
  return {
    url,
    port,
    stateFile,
    deployed,
    get up() {
      return anvil !== null;
    },
    async stop() {
      await anvil?.close();
      anvil = null;
    },
    async restart() {
      assert.equal(anvil, null, 'the chain is running');
      anvil = await startAnvil({ port, state: stateFile });
    },
    async close() {
      deployed.close();
      await anvil?.close();
      anvil = null;
    },
  };
}

export interface RelayerTransaction {
  hash: string;
  block: number;
  succeeded: boolean;
  /** The patients' signatures the transaction carried (one per relayed intent, multicall unpacked). */
  signatures: string[];
}

/** Every transaction the relayer sent to the contract, with the signed intents each carried. */
export async function relayerTransactions(chain: Chain): Promise<RelayerTransaction[]> {
  const { provider, address, deployBlock, admin } = chain.deployed;
  const iface = HealthRecordAccessControl__factory.createInterface();
  const signaturesIn = (data: string): string[] => {
    const call = iface.parseTransaction({ data });
    if (!call) return [];
    if (call.name === 'multicall') return (call.args[0] as string[]).flatMap(signaturesIn);
    const index = call.fragment.inputs.findIndex((input) => input.name === 'signature');
    return index < 0 ? [] : [lower(call.args[index] as string)];
  };
  const head = await provider.getBlockNumber();
  const found: RelayerTransaction[] = [];
  for (let number = deployBlock + 1; number <= head; number++) {
    const block = await provider.getBlock(number, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (lower(tx.from) !== lower(admin.address) || lower(tx.to ?? '') !== address) continue;
      const receipt = await provider.getTransactionReceipt(tx.hash);
      found.push({
        hash: tx.hash,
        block: number,
        succeeded: receipt?.status === 1,
        signatures: signaturesIn(tx.data),
      });
    }
  }
  return found;
}

/**
 * Watches the chain (every few milliseconds) for the next block holding a relayer transaction that
 * carries at least `minIntents` signed intents, and resolves as soon as it is mined (the chain mines on
 * each transaction: that is the moment the relayer sent it). Undefined after `timeoutMs`.
 */
export async function nextRelayerTransaction(
  chain: Chain,
  minIntents: number,
  timeoutMs: number,
): Promise<{ hash: string; intents: number } | undefined> {
  const { provider, address, admin } = chain.deployed;
  const iface = HealthRecordAccessControl__factory.createInterface();
  const deadline = Date.now() + timeoutMs;
  let seen = await provider.getBlockNumber();
  while (Date.now() < deadline) {
    const head = await provider.getBlockNumber();
    for (; seen < head; seen++) {
      const block = await provider.getBlock(seen + 1, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (lower(tx.from) !== lower(admin.address) || lower(tx.to ?? '') !== address) continue;
        const call = iface.parseTransaction({ data: tx.data });
        const intents = call?.name === 'multicall' ? (call.args[0] as string[]).length : 1;
        if (call?.name !== 'anchorAudit' && intents >= minIntents) return { hash: tx.hash, intents };
      }
    }
    await sleep(5);
  }
  return undefined;
}

/** How many AccessGranted logs the contract emitted per `patient|provider|category id`. */
export async function accessGrantedCounts(chain: Chain): Promise<Map<string, number>> {
  const { contract, deployBlock } = chain.deployed;
  const logs = await contract.queryFilter(contract.filters.AccessGranted(), deployBlock);
  const counts = new Map<string, number>();
  for (const log of logs) {
    const key = `${lower(log.args.patient)}|${lower(log.args.provider)}|${log.args.category}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

// -------------------------------------------------------------------------------------------- API

export interface ApiProcess {
  url: string;
  port: number;
  dataDir: string;
  /** The running process's id (changes with each start). */
  readonly pid: number;
  readonly running: boolean;
  /** kill -9, and wait until the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (a graceful shutdown), and wait until the process is gone. */
  stop(): Promise<void>;
  /** Starts the process again on the same port and folder; resolves once it answers /health. */
  restart(): Promise<void>;
  /** Resident set size of the running process, in bytes (from /proc). */
  rss(): number;
  /** CPU time the running process has used, user and system, in seconds (from /proc). */
  cpuSeconds(): number;
  /**
   * A full garbage collection in the running process (`gc()` through its inspector; started with
   * `inspect: true`): what it still holds after one, not when its collector last ran. A plain full
   * collection: HeapProfiler.collectGarbage also drops compiled code, and the requests after it ran
   * slow for seconds.
   */
  collectGarbage(): Promise<void>;
  /** The end of what the processes wrote (for failure messages). */
  logTail(lines?: number): string;
}

/**
 * How the API is run: the build (dist/apps/api/src/main.js, `npm run build:api`) when it is newer than
 * every source it is built from, which starts in half the time; otherwise the TypeScript entry through
 * @swc-node/register, so that a suite run on its own never tests a stale build.
 */
export function apiCommand(): { args: string[]; describe: string } {
  const built = path.join(ROOT, 'dist/apps/api/src/main.js');
  const newest = (target: string): number => {
    if (!existsSync(target)) return 0;
    const stat = statSync(target);
    if (!stat.isDirectory()) return stat.mtimeMs;
    let latest = stat.mtimeMs;
    for (const entry of readdirSync(target, { withFileTypes: true })) {
      if (entry.name !== 'node_modules') latest = Math.max(latest, newest(path.join(target, entry.name)));
    }
    return latest;
  };
  const sources = ['apps/api/src', 'libs', 'tsconfig.base.json'].map((s) => newest(path.join(ROOT, s)));
  if (existsSync(built) && Math.max(...sources) <= statSync(built).mtimeMs) {
    return { args: ['--enable-source-maps', built], describe: 'dist/apps/api/src/main.js' };
  }
  return {
    args: ['-r', '@swc-node/register', 'apps/api/src/main.ts'],
    describe: 'apps/api/src/main.ts (the build is missing or older than the sources)',
  };
}

/** Settings a developer's shell could hold that would change what is tested: cleared. */
const CLEARED = [
  'EVENTSTORE_URL',
  'MONGODB_URI',
  'IPFS_API_URL',
  'TRTC_SDK_APP_ID',
  'TRTC_SECRET_KEY',
  'TENCENT_CHAT_SDK_APP_ID',
  'TENCENT_CHAT_SECRET_KEY',
  'RELAYER_PRIVATE_KEY',
  'CORS_ORIGIN',
  'CUSTOS_DEMO',
];

/**
 * Runs the API (apps/api/src/main.ts through @swc-node/register: the sources as they are, no build step)
 * on `dataDir` and a free port, against `chain` when given. The abuse limits are lifted (the load comes
 * from one address), the token secret is fixed (sessions survive a restart, as in production).
 */
export async function startApi(
  dataDir: string,
  options: { chain?: Chain; env?: Record<string, string>; inspect?: boolean } = {},
): Promise<ApiProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  for (const name of CLEARED) env[name] = '';
  Object.assign(env, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: url,
    CUSTOS_DATA_DIR: dataDir,
    WEB_DIST_DIR: path.join(dataDir, 'no-web-build'),
    AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
    AUTH_TOKEN_TTL: '1h',
    RATE_LIMIT_SIGN_IN: '1000000000',
    RATE_LIMIT_RELAY: '1000000000',
    RATE_LIMIT_CREDENTIALS: '1000000000',
    RATE_LIMIT_UPLOADS: '1000000000',
    RATE_LIMIT_REFUSED: '1000000000',
    AUDIT_ANCHOR_INTERVAL: '0',
    ...(options.chain
      ? {
          CHAIN_RPC_URL: options.chain.url,
          CHAIN_ID: String(ANVIL_CHAIN_ID),
          CONTRACT_ADDRESS: options.chain.deployed.address,
          CHAIN_POLL_INTERVAL: '200ms',
          CHAIN_CONFIRMATIONS: '1',
        }
      : { CHAIN_RPC_URL: 'http://127.0.0.1:9', CONTRACT_ADDRESS: '' }),
    ...options.env,
  });
  mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'api.log');
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let starts = 0;
  const command = apiCommand();
  console.log(`# API: node ${command.describe}`);

  const launch = async () => {
    starts++;
    const log = openSync(logFile, 'a');
    // RELIABILITY_API_NODE_ARGS: node options for the API processes, to look inside one, e.g.
    // `--cpu-prof --cpu-prof-dir=/tmp/prof` or `--heapsnapshot-signal=SIGUSR2`.
    const extra = (process.env.RELIABILITY_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // The inspector on a port of its own choosing, on the loopback only (it says which in the log), and
    // gc() for it to call.
    const inspect = options.inspect ? ['--inspect=127.0.0.1:0', '--expose-gc'] : [];
    const args = [...extra, ...inspect, ...command.args];
    const started = spawn(process.execPath, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    const client = new HttpClient(url, 1);
    try {
      await until(
        `the API (start ${starts}) to answer /health`,
        async () => {
          if (gone) throw new Error(`the API exited while starting:\n${tail(logFile)}`);
          const res = await client.get('/health');
          return res.status === 200 || res.status === 503;
        },
        120_000,
        100,
      );
    } finally {
      client.close();
    }
  };
  const isRunning = () => child !== null && child.exitCode === null && child.signalCode === null;
  process.once('exit', () => {
    if (isRunning()) child!.kill('SIGKILL');
  });

  await launch();
  return {
    url,
    port,
    dataDir,
    get pid() {
      return child?.pid ?? -1;
    },
    get running() {
      return isRunning();
    },
    async kill9() {
      if (!isRunning()) return;
      child!.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!isRunning()) return;
      child!.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    async restart() {
      assert.ok(!isRunning(), 'the API is running');
      await launch();
    },
    rss() {
      const status = readFileSync(`/proc/${child!.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      if (!kb) throw new Error('no VmRSS in /proc/<pid>/status');
      return Number(kb[1]) * 1024;
    },
    async collectGarbage() {
      assert.ok(options.inspect, 'collectGarbage needs startApi(…, { inspect: true })');
      const listening = [...readFileSync(logFile, 'utf8').matchAll(/Debugger listening on (ws:\/\/\S+)/g)].at(
        -1,
      );
      assert.ok(listening, 'the API did not say where its inspector listens');
      const socket = new WebSocket(listening[1]!);
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('open', () =>
            socket.send(
              JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: 'gc()' } }),
            ),
          );
          socket.on('message', (data) => {
            const reply = JSON.parse(String(data)) as {
              id?: number;
              error?: { message: string };
              result?: { exceptionDetails?: { text: string } };
            };
            if (reply.id !== 1) return;
            const failed = reply.error?.message ?? reply.result?.exceptionDetails?.text;
            if (failed) reject(new Error(`gc() through the inspector: ${failed}`));
            else resolve();
          });
          socket.once('error', reject);
        });
      } finally {
        socket.close();
      }
    },
    cpuSeconds() {
      // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name), in clock ticks of 1/100 s.
      const fields = readFileSync(`/proc/${child!.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    logTail: (lines = 40) => tail(logFile, lines),
  };
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------------------ after-run checks

/**
 * Opens the data folder of a stopped API: every event in global order, and the live read models after
 * catching up (as the next start would: each projection from its checkpoint) compared, collection by
 * collection and document by document, with every projection rebuilt from zero into an empty store.
 */
export async function inspectDataFolder(dataDir: string): Promise<{
  events: RecordedEvent[];
  live: Awaited<ReturnType<typeof snapshot>>;
  rebuilt: Awaited<ReturnType<typeof snapshot>>;
}> {
  const config = loadConfig({ NODE_ENV: 'test', CUSTOS_DATA_DIR: dataDir });
  const store = createEventStore(config);
  const rebuildFolder = temporaryFolder('custos-reliability-rebuild-');
  try {
    const events: RecordedEvent[] = [];
    for await (const event of store.readAll()) events.push(event);
    const head = await store.headPosition();
    const project = async (folder: string) => {
      const readModels = await createReadModelStore({ CUSTOS_DATA_DIR: folder, MONGODB_URI: undefined });
      try {
        const runner = new ProjectionRunner(store, readModels, PROJECTIONS, { batchSize: 1000 });
        await runner.start();
        await runner.caughtUp(head, 120_000);
        await runner.stop();
        return await snapshot(readModels);
      } finally {
        await readModels.close();
      }
    };
    return { events, live: await project(dataDir), rebuilt: await project(rebuildFolder.dir) };
  } finally {
    await store.close();
    rebuildFolder.cleanUp();
  }
}

/** Events of `type` whose `data[field]` is `value`. */
export function eventsWith(
  events: readonly RecordedEvent[],
  type: string,
  field: string,
  value: unknown,
): RecordedEvent[] {
  return events.filter((e) => e.type === type && (e.data as Record<string, unknown>)[field] === value);
}

/** Counts of `data[field]` over the events of `type`. */
export function countBy(events: readonly RecordedEvent[], type: string, field: string): Map<unknown, number> {
  const counts = new Map<unknown, number>();
  for (const event of events) {
    if (event.type !== type) continue;
    const key = (event.data as Record<string, unknown>)[field];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

// ------------------------------------------------------------------------------- load generator

export interface LoadGenerator {
  /** Starts sending per `plan`; `stop()` stops, waits for the answers in flight and returns every record. */
  start(plan: Omit<Plan, 'recordFile'>): Promise<{ stop(): Promise<RequestRecord[]> }>;
  close(): void;
}

/** Forks load-generator.ts: a process of its own, loading the API from outside. */
export async function forkGenerator(dir: string): Promise<LoadGenerator> {
  const child = fork(path.join(__dirname, 'load-generator.ts'), [], {
    execArgv: ['-r', '@swc-node/register'],
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const next = () =>
    new Promise<FromGenerator>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the load generator exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        resolve(message as FromGenerator);
      });
    });
  const ready = await next();
  if (ready.type !== 'ready') throw new Error(`load generator: ${JSON.stringify(ready)}`);
  let runs = 0;
  return {
    async start(plan) {
      const recordFile = path.join(dir, `requests-${++runs}.jsonl`);
      child.send({ type: 'start', plan: { ...plan, recordFile } } satisfies ToGenerator);
      return {
        async stop() {
          const stopped = next();
          child.send({ type: 'stop' } satisfies ToGenerator);
          const answer = await stopped;
          if (answer.type !== 'stopped') throw new Error(`load generator: ${JSON.stringify(answer)}`);
          if (!existsSync(recordFile)) return [];
          return readFileSync(recordFile, 'utf8')
            .trimEnd()
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as RequestRecord);
        },
      };
    },
    close() {
      if (child.connected) child.disconnect();
    },
  };
}
