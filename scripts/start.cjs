#!/usr/bin/env node
// `npm start`: the whole product on one machine.
//
//   1. builds what is out of date (contracts, API, web app);
//   2. unless CHAIN_RPC_URL is set: starts a local chain, anvil from node_modules, on
//      127.0.0.1:(PORT + 5545) with its state in <CUSTOS_DATA_DIR>/chain/anvil-state.json;
//   3. unless CONTRACT_ADDRESS is set: deploys HealthRecordAccessControl on first run and records it
//      in <CUSTOS_DATA_DIR>/chain/deployment.json, or checks on later runs that the chain still
//      holds the recorded contract (and explains what to do when it does not);
//   4. gives the relayer ANCHOR_ROLE; with --demo (or CUSTOS_DEMO=1) registers demo accounts;
//   5. runs the API (node dist/apps/api/src/main.js, which also serves the built web app) with
//      CHAIN_RPC_URL, CHAIN_ID and CONTRACT_ADDRESS set to the chain and contract above, waits until
//      it answers, and prints "Custos is running at ...".
// Ctrl-C (SIGINT), SIGTERM or SIGHUP stop the API, then the chain (which writes its state), and exit
// 0; all data stays. When the API or the chain dies, the other is stopped and the exit code is not 0.
// With NODE_ENV=production only the API is started, with the settings given.
//
// Settings (environment or .env; the environment wins; an empty value means unset): those of the
// API (.env.example), plus these, read here only: CUSTOS_CHAIN_PORT (the local chain's port; default
// PORT + 5545), CUSTOS_BLOCK_TIME (seconds between blocks of the local chain; default 1, 0 for
// automine only) and CUSTOS_ADMIN_ADDRESS (the contract admin at the first deployment; default
// development account #0).
'use strict';
/* global fetch, AbortSignal, URL -- Node's own, as in browsers */
const { spawn, spawnSync } = require('node:child_process');
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { parseEnv } = require('node:util');
const {
  DEFAULT_BLOCK_TIME_SECONDS,
  chainIdAt,
  commandLineOf,
  freePort,
  isAlive,
  portIsFree,
  shown,
  startAnvil,
  stopProcess,
} = require('./local-chain.cjs');

const root = path.resolve(__dirname, '..');
const API_MAIN = path.join(root, 'dist/apps/api/src/main.js');
const ARTIFACT = path.join(
  root,
  'artifacts/contracts/HealthRecordAccessControl.sol/HealthRecordAccessControl.json',
);
/** The development key of anvil account #0, the API's default relayer outside production. */
const DEVELOPMENT_RELAYER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const DEFAULT_CHAIN_ID = 31337;
/** PORT + this is the local chain's port: 3000 → 8545, the API's default CHAIN_RPC_URL port. */
const CHAIN_PORT_OFFSET = 5545;
const API_READY_TIMEOUT_MS = 120_000;
/** The API forces its own exit after 10 s; this leaves it room. */
const API_STOP_TIMEOUT_MS = 20_000;

const USAGE = `Usage: npm start [-- --demo] [-- --no-build]

  --demo       register demo provider, emergency and auditor accounts and print their keys
               (also CUSTOS_DEMO=1)
  --no-build   start from what is built, without building what is out of date

Settings come from the environment and .env; see README.md ("Two commands") and .env.example.`;

function log(line) {
  console.log(`custos: ${line}`);
}

/** A problem the user has to solve: printed without a stack trace, exit code 1. */
class StartError extends Error {}

// ---------------------------------------------------------------------------------------- settings

const options = { demo: false, build: true };
for (const arg of process.argv.slice(2)) {
  if (arg === '--demo') options.demo = true;
  else if (arg === '--no-build') options.build = false;
  else if (arg === '--help' || arg === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else {
    console.error(`custos: unknown option ${arg}\n\n${USAGE}`);
    process.exit(2);
  }
}

/** Loads .env like the API does (the environment wins) and returns the names it provided. */
function loadDotEnv() {
  const file = path.join(root, '.env');
  if (!existsSync(file)) return new Set();
  const provided = new Set();
  for (const [name, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) {
    if (process.env[name] === undefined) {
      process.env[name] = value;
      provided.add(name);
    }
  }
  return provided;
}
const fromDotEnv = loadDotEnv();

/** A setting's value, undefined when unset or empty (as the API's configuration reads it). */
function setting(name) {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function whereSet(name) {
  return fromDotEnv.has(name) ? `${name} (from .env)` : name;
}

function wholeNumber(name, fallback, min, max) {
  const text = setting(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new StartError(`${whereSet(name)} must be a whole number between ${min} and ${max}, not "${text}"`);
  }
  return value;
}

function flag(name) {
  return ['1', 'true', 'yes', 'on'].includes((setting(name) ?? '').toLowerCase());
}

/** A chain URL fit to print: scheme, host and port only (provider URLs often carry an API key). */
function safeOrigin(url) {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(CHAIN_RPC_URL)';
  }
}

// ------------------------------------------------------------------------------------------ builds

/** Newest modification time of a file, or of any file under a folder (0 when it does not exist). */
function newest(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    latest = Math.max(latest, newest(path.join(target, entry.name)));
  }
  return latest;
}

/** True when `output` (a file or folder) is missing or older than any of `sources`. */
function outdated(output, ...sources) {
  const built = newest(path.join(root, output));
  return built === 0 || sources.some((source) => newest(path.join(root, source)) > built);
}

function run(script) {
  log(`npm run ${script}`);
  const result = spawnSync('npm', ['run', '--silent', script], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function build() {
  if (!options.build) {
    for (const [file, script] of [
      [ARTIFACT, 'build:contracts'],
      [API_MAIN, 'build:api'],
    ]) {
      if (!existsSync(file))
        throw new StartError(`--no-build: ${file} is missing; run \`npm run ${script}\``);
    }
    return;
  }
  // Hardhat rewrites only the artifacts of changed contracts, so compare the newest of each side.
  if (outdated('artifacts/contracts', 'contracts')) run('build:contracts');
  if (outdated('dist/apps/api/src/main.js', 'apps/api/src', 'libs', 'tsconfig.base.json')) run('build:api');
  // The web app also bundles parts of the libraries: the EIP-712 builders, category ids and audit
  // proofs of libs/chain, the messaging and consultation rules of libs/domain, libs/e2ee and the
  // content addresses of libs/records.
  const web = [
    'apps/web-angular/src',
    'libs/chain/src/typed-data.ts',
    'libs/chain/src/categories.ts',
    'libs/chain/src/audit-merkle.ts',
    'libs/domain/src/messaging.ts',
    'libs/domain/src/consultation.ts',
    'libs/domain/src/decider.ts',
    'libs/domain/src/events.ts',
    'libs/e2ee/src/index.ts',
    'libs/records/src',
  ];
  if (outdated('dist/web-angular/browser/index.html', ...web)) run('build:web');
}

// ------------------------------------------------------------------------- one npm start per folder

/**
 * <CUSTOS_DATA_DIR>/npm-start.json names the processes of the npm start running on the folder. It
 * keeps a second npm start off the same folder, and lets the next start stop what an earlier one
 * left running when it was killed outright (kill -9), e.g. an anvil still holding the chain port.
 */
function instanceFile(dataDir) {
  return path.join(dataDir, 'npm-start.json');
}

async function claimDataDir(dataDir, stateFile) {
  const file = instanceFile(dataDir);
  if (existsSync(file)) {
    let earlier = {};
    try {
      earlier = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // unreadable: nothing to stop
    }
    const running = (pid, pattern) =>
      Number.isInteger(pid) &&
      pid !== process.pid &&
      isAlive(pid) &&
      (commandLineOf(pid) ?? '').includes(pattern);
    if (running(earlier.pid, 'start.cjs')) {
      throw new StartError(
        `another npm start (pid ${earlier.pid}, http://127.0.0.1:${earlier.port}) is running on the data folder ${shown(dataDir)}. ` +
          'Stop it first, or give this one its own CUSTOS_DATA_DIR and PORT.',
      );
    }
    for (const [name, pid, pattern] of [
      ['API', earlier.apiPid, 'main.js'],
      ['chain node', earlier.anvilPid, stateFile],
    ]) {
      if (!running(pid, pattern)) continue;
      log(`stopping the ${name} (pid ${pid}) left running by an earlier npm start that was killed`);
      process.kill(pid, 'SIGTERM');
      for (let waited = 0; isAlive(pid) && waited < 30_000; waited += 100) await sleep(100);
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  recordInstance(dataDir, {});
}

let instance = { pid: process.pid, startedAt: new Date().toISOString() };
function recordInstance(dataDir, fields) {
  instance = { ...instance, ...fields };
  writeFileSync(instanceFile(dataDir), `${JSON.stringify(instance, null, 2)}\n`);
}

// ------------------------------------------------------------------------------------------- main

/** The running children: { child, exited }. */
const processes = { api: undefined, anvil: undefined };
let stopping = false;
let dataDirInUse;

async function main() {
  build();

  const production = setting('NODE_ENV') === 'production';
  const demo = options.demo || flag('CUSTOS_DEMO');
  let port = wholeNumber('PORT', 3000, 0, 65535);
  if (port === 0) port = await freePort();
  const host = setting('HOST') ?? '127.0.0.1';
  const browseHost = ['0.0.0.0', '::', '[::]'].includes(host) ? '127.0.0.1' : host;
  const dataDir = path.resolve(setting('CUSTOS_DATA_DIR') ?? './data');
  const chainDir = path.join(dataDir, 'chain');
  const stateFile = path.join(chainDir, 'anvil-state.json');
  const chainId = wholeNumber('CHAIN_ID', DEFAULT_CHAIN_ID, 1, Number.MAX_SAFE_INTEGER);

  mkdirSync(chainDir, { recursive: true });
  await claimDataDir(dataDir, stateFile);
  dataDirInUse = dataDir;
  installSignalHandlers();
  if (!(await portIsFree(port, host))) {
    throw new StartError(
      `port ${port} on ${host} is in use (another Custos?): stop what uses it, or choose another PORT`,
    );
  }

  const apiEnv = { ...process.env, PORT: String(port), CUSTOS_DATA_DIR: dataDir };
  let chainShown;
  let contractAddress = setting('CONTRACT_ADDRESS');
  let demoAccounts = [];

  if (production) {
    log(
      'NODE_ENV=production: starting the API alone, with the settings given (no local chain, no deployment)',
    );
  } else {
    const started = Date.now();
    let url = setting('CHAIN_RPC_URL');
    let local = false;
    if (url === undefined) {
      const chainPort = wholeNumber(
        'CUSTOS_CHAIN_PORT',
        port + CHAIN_PORT_OFFSET <= 65535 ? port + CHAIN_PORT_OFFSET : await freePort(),
        1,
        65535,
      );
      if (!(await portIsFree(chainPort))) {
        throw new StartError(
          `port ${chainPort} for the local chain (PORT + ${CHAIN_PORT_OFFSET}) is in use: stop what uses it, ` +
            'or set CUSTOS_CHAIN_PORT to a free port (or CHAIN_RPC_URL to use a chain that is already running)',
        );
      }
      const blockTime = wholeNumber('CUSTOS_BLOCK_TIME', DEFAULT_BLOCK_TIME_SECONDS, 0, 3600);
      log(
        `starting the local chain: anvil on 127.0.0.1:${chainPort}, chain id ${chainId}, ` +
          `state in ${shown(stateFile)}`,
      );
      const anvil = startAnvil({
        port: chainPort,
        chainId,
        stateFile,
        logFile: path.join(chainDir, 'anvil.log'),
        blockTime,
      });
      processes.anvil = anvil;
      recordInstance(dataDir, { port, chainPort, anvilPid: anvil.child.pid });
      await anvil.ready;
      watch('anvil', 'the chain node');
      url = anvil.url;
      chainShown = url;
      local = true;
      log(`chain ready at ${url} in ${Date.now() - started} ms`);
    } else {
      chainShown = safeOrigin(url);
      const answered = await chainIdAt(url, 5_000);
      if (answered === undefined) {
        throw new StartError(
          `${whereSet('CHAIN_RPC_URL')} is set, so npm start runs no chain of its own, but no chain node answers at ${chainShown}. ` +
            'Start that node, or leave CHAIN_RPC_URL empty to let npm start run its local chain.',
        );
      }
      if (answered !== chainId) {
        throw new StartError(
          `the chain at ${chainShown} is chain id ${answered}, but CHAIN_ID is ${chainId}: set CHAIN_ID=${answered} or point CHAIN_RPC_URL at the right chain`,
        );
      }
      log(
        `using the chain at ${chainShown} (${whereSet('CHAIN_RPC_URL')}; npm start runs no chain of its own)`,
      );
    }

    // ethers is needed from here on only; loading it takes a moment.
    const { prepareContract, describeDemoAccounts, StartError: DeployError } = require('./deploy.cjs');
    const relayerKey = setting('RELAYER_PRIVATE_KEY') ?? DEVELOPMENT_RELAYER_KEY;
    if (!/^0x[0-9a-fA-F]{64}$/.test(relayerKey)) {
      throw new StartError(
        `${whereSet('RELAYER_PRIVATE_KEY')} must be a 0x-prefixed 32-byte hex private key`,
      );
    }
    try {
      const prepared = await prepareContract({
        url,
        shownUrl: chainShown,
        chainId,
        dataDir,
        stateFile,
        local,
        contractAddress,
        relayerKey,
        adminAddress: setting('CUSTOS_ADMIN_ADDRESS'),
        demo,
        log,
      });
      contractAddress = prepared.address;
      demoAccounts = describeDemoAccounts(prepared.demoAccounts);
    } catch (error) {
      if (error instanceof DeployError) throw new StartError(error.message);
      throw error;
    }
    Object.assign(apiEnv, {
      CHAIN_RPC_URL: url,
      CHAIN_ID: String(chainId),
      CONTRACT_ADDRESS: contractAddress,
    });
    if (demo) apiEnv.CUSTOS_DEMO = 'true';
  }

  if (stopping) return;
  const apiStarted = Date.now();
  const child = spawn(process.execPath, ['--enable-source-maps', API_MAIN], {
    cwd: root,
    env: apiEnv,
    stdio: 'inherit',
    detached: process.platform !== 'win32',
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  processes.api = { child, exited };
  recordInstance(dataDir, { port, apiPid: child.pid });
  watch('api', 'the API');

  const base = `http://${browseHost.includes(':') ? `[${browseHost}]` : browseHost}:${port}`;
  await waitForApi(base, exited);
  if (stopping) return;
  log(`API ready in ${Date.now() - apiStarted} ms`);
  if (!existsSync(path.join(root, 'dist/web-angular/browser/index.html'))) {
    log('the web app is not built (npm run build:web), so only the API is served');
  }
  for (const line of demoAccounts) console.log(line);
  const details = [chainShown && `chain ${chainShown}`, contractAddress && `contract ${contractAddress}`]
    .filter(Boolean)
    .join(', ');
  console.log(`Custos is running at ${base}${details ? ` (${details})` : ''}`);
}

async function waitForApi(base, exited) {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + API_READY_TIMEOUT_MS;
  while (!gone && !stopping) {
    try {
      const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(3_000) });
      await response.body?.cancel();
      return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new StartError(
        `the API did not answer at ${base}/health within ${API_READY_TIMEOUT_MS / 1000} s`,
      );
    }
    await sleep(200);
  }
  // An exit is reported by watch().
  await new Promise(() => {});
}

/** When a child ends on its own, stops the other and exits non-zero with the reason. */
function watch(key, name) {
  processes[key].exited.then(({ code, signal, error }) => {
    if (stopping) return;
    const why = error ? error.message : signal ? `killed by ${signal}` : `exit code ${code}`;
    const where = key === 'anvil' ? ` (see ${shown(path.join(dataDirInUse, 'chain', 'anvil.log'))})` : '';
    console.error(`custos: ${name} stopped unexpectedly (${why})${where}; stopping everything`);
    void shutdown(typeof code === 'number' && code !== 0 ? code : 1);
  });
}

/** Stops the API, then the chain (which writes its state), and exits with `exitCode`. */
async function shutdown(exitCode) {
  stopping = true;
  let failed = false;
  for (const [key, name, timeout] of [
    ['api', 'the API', API_STOP_TIMEOUT_MS],
    ['anvil', 'the chain (saving its state)', undefined],
  ]) {
    const running = processes[key];
    if (!running || running.child.exitCode !== null || running.child.signalCode !== null) continue;
    log(`stopping ${name}`);
    const result = await stopProcess(running.child, running.exited, 'SIGTERM', timeout);
    if (result.killed || (result.code !== 0 && result.code !== null && exitCode === 0)) {
      console.error(
        `custos: ${name} did not stop cleanly (${result.killed ? 'killed' : `exit code ${result.code}`})`,
      );
      failed = true;
    }
  }
  if (dataDirInUse) rmSync(instanceFile(dataDirInUse), { force: true });
  process.exit(exitCode === 0 && failed ? 1 : exitCode);
}

/**
 * Under `npm start`, Ctrl-C reaches this process twice: from the terminal and forwarded by npm. A
 * signal within this long of the first is that echo; a later one forces the stop.
 */
const SIGNAL_ECHO_MS = 2_000;

function installSignalHandlers() {
  let firstSignalAt = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (!stopping) {
        firstSignalAt = Date.now();
        log(`${signal} received: stopping (press Ctrl-C again to force)`);
        void shutdown(0);
        return;
      }
      if (Date.now() - firstSignalAt < SIGNAL_ECHO_MS) return;
      // Asked again: do not wait any longer.
      for (const running of Object.values(processes)) {
        try {
          running?.child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
      if (dataDirInUse) rmSync(instanceFile(dataDirInUse), { force: true });
      process.exit(1);
    });
  }
}

main().catch(async (error) => {
  if (stopping) return; // a signal arrived while starting: shutdown() exits
  if (error instanceof StartError) console.error(`custos: ${error.message}`);
  else
    console.error(
      'custos: could not start:',
      error instanceof Error ? (error.stack ?? error.message) : error,
    );
  await shutdown(1);
});
