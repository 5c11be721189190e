// The local chain `npm start` runs: anvil from the `@foundry-rs/anvil` npm package, bound to
// 127.0.0.1, with its state in one JSON file under the data folder so consents survive a restart.
// Also the small JSON-RPC and port helpers start.cjs needs before ethers is involved.
'use strict';
/* global fetch, AbortSignal -- Node's own, as in browsers */
const { spawn, spawnSync } = require('node:child_process');
const {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} = require('node:fs');
const net = require('node:net');
const { setTimeout, clearTimeout } = require('node:timers');
const path = require('node:path');

/**
 * Block time of the local chain, in seconds. Transactions are mined at once (automine) AND an empty
 * block follows every second (`--mixed-mining --block-time 1`), because:
 * - `eth_call` at `latest` runs at the latest block's timestamp: with automine alone, chain time
 *   would stand still between transactions, and `hasActiveAccess` (the drift check, the benchmark's
 *   baseline) would call a grant active long after it lapsed;
 * - with automine alone the head only moves when the next transaction comes: a log waiting for
 *   CHAIN_CONFIRMATIONS > 1 blocks (the mirror counts the log's own block, so the default 1 does not
 *   wait) would wait until someone else sends something;
 * - automine keeps relayed transactions and the start script's own deployment instant.
 * The price: anvil keeps every block, so the state file grows by about 1.7 kB per block (~6 MB per
 * hour of running). CUSTOS_BLOCK_TIME changes the interval (0: automine only).
 */
const DEFAULT_BLOCK_TIME_SECONDS = 1;
/** The state is also written every this many seconds, so a crash (kill -9, power loss) loses little. */
const STATE_INTERVAL_SECONDS = 10;
/** Loading a large state file takes a while; a fresh chain answers in well under a second. */
const READY_TIMEOUT_MS = 60_000;
/** Writing a large state file on exit takes a while too. */
const STOP_TIMEOUT_MS = 60_000;

const PLATFORM_ARCH = { x64: 'amd64', arm64: 'arm64' };

/**
 * The anvil executable. The platform package's binary itself, not the package's `bin.mjs`
 * wrapper: the wrapper re-raises a forwarded signal on itself and exits before anvil has written
 * its state, so its exit would not tell us when the state is safe.
 */
function anvilBinary() {
  const arch = PLATFORM_ARCH[process.arch];
  const name = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  if (arch) {
    try {
      const packageDir = path.dirname(require.resolve('@foundry-rs/anvil/package.json'));
      const binary = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/${name}`, {
        paths: [packageDir],
      });
      if (existsSync(binary)) return { command: binary, args: [] };
    } catch {
      // fall back to the wrapper below
    }
  }
  const wrapper = path.resolve(__dirname, '../node_modules/@foundry-rs/anvil/bin.mjs');
  if (!existsSync(wrapper)) {
    throw new Error(
      'anvil is not installed: run `npm ci` (it comes with the @foundry-rs/anvil development dependency)',
    );
  }
  return { command: process.execPath, args: [wrapper] };
}

/** One JSON-RPC call over HTTP; rejects with the node's error message or on timeout. */
async function rpc(url, method, params = [], timeoutMs = 5_000) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message ?? JSON.stringify(body.error)}`);
  return body.result;
}

/** The chain id the node at `url` answers, or undefined when nothing answers. */
async function chainIdAt(url, timeoutMs = 2_000) {
  try {
    return Number(BigInt(await rpc(url, 'eth_chainId', [], timeoutMs)));
  } catch {
    return undefined;
  }
}

/** True when nothing listens on host:port (we could bind it). */
function portIsFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port that is free right now on host. */
function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The last `lines` lines of a text file ('' when it cannot be read). */
function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts anvil on 127.0.0.1:port with its state in `stateFile` (loaded when it exists, written
 * every STATE_INTERVAL_SECONDS and on SIGINT/SIGTERM); output goes to `logFile`. Returns
 * { child, url, exited, ready }: `exited` resolves with { code, signal } when the process ends,
 * `ready` once it answers eth_chainId, or rejects with anvil's own words when it does not come up.
 */
function startAnvil({ port, chainId, stateFile, logFile, blockTime = DEFAULT_BLOCK_TIME_SECONDS }) {
  const { command, args } = anvilBinary();
  // A state file cut short (the machine died while anvil wrote it) cannot be loaded. Keep a copy of
  // the last one anvil loaded: copied now, kept as `.bak` once anvil has loaded it.
  const candidate = `${stateFile}.loading`;
  const hadState = existsSync(stateFile) && statSync(stateFile).size > 0;
  if (hadState) copyFileSync(stateFile, candidate);
  const mining = blockTime > 0 ? ['--block-time', String(blockTime), '--mixed-mining'] : [];
  const fullArgs = [
    ...args,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--chain-id',
    String(chainId),
    '--state',
    stateFile,
    '--state-interval',
    String(STATE_INTERVAL_SECONDS),
    ...mining,
    '--color',
    'never',
  ];
  const log = openSync(logFile, 'w');
  const child = spawn(command, fullArgs, {
    stdio: ['ignore', log, log],
    // Its own process group: Ctrl-C in the terminal reaches only start.cjs, which stops the API
    // first and the chain last.
    detached: process.platform !== 'win32',
  });
  closeSync(log);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const url = `http://127.0.0.1:${port}`;
  return { child, url, exited, ready: waitUntilReady() };

  async function waitUntilReady() {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      const answered = await chainIdAt(url, 1_000);
      // `done` again: another node on the port could answer while ours failed to bind it.
      if (answered !== undefined && !done) {
        if (answered !== chainId) {
          await stopProcess(child, exited);
          throw new Error(`the chain node at ${url} answers chain id ${answered}, expected ${chainId}`);
        }
        if (hadState) renameSync(candidate, `${stateFile}.bak`);
        return;
      }
      if (Date.now() > deadline) {
        await stopProcess(child, exited, 'SIGKILL');
        throw new Error(`anvil did not answer at ${url} within ${READY_TIMEOUT_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { code, signal, error } = await exited;
    rmSync(candidate, { force: true });
    const why = error ? error.message : signal ? `killed by ${signal}` : `exit code ${code}`;
    const hint = existsSync(`${stateFile}.bak`)
      ? `\nIf ${stateFile} is damaged, ${stateFile}.bak is the last state anvil loaded: copy it over.`
      : '';
    throw new Error(`anvil stopped while starting (${why}):\n${tail(logFile)}${hint}`);
  }
}

/**
 * Sends `signal` to a child and waits for it to end, escalating to SIGKILL after `timeoutMs`.
 * Resolves with { code, signal, killed } (killed: it had to be SIGKILLed).
 */
async function stopProcess(child, exited, signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
  if (child.exitCode !== null || child.signalCode !== null) return { ...(await exited), killed: false };
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const first = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (first !== 'timeout') return { ...first, killed: false };
  try {
    child.kill('SIGKILL');
  } catch {
    // already gone
  }
  return { ...(await exited), killed: true };
}

/** The command line of a running process, or undefined (not running, or not ours to read). */
function commandLineOf(pid) {
  try {
    if (process.platform === 'linux') {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || undefined;
    }
    if (process.platform === 'win32') return undefined;
    const result = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(file) {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

module.exports = {
  DEFAULT_BLOCK_TIME_SECONDS,
  STOP_TIMEOUT_MS,
  anvilBinary,
  chainIdAt,
  commandLineOf,
  freePort,
  isAlive,
  portIsFree,
  rpc,
  shown,
  startAnvil,
  stopProcess,
  tail,
};
