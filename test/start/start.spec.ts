// `npm start` on one machine, run as a user runs it: `node scripts/start.cjs` in a child process on
// a temporary data folder and free ports. It starts its own anvil, deploys the contract on first
// run, registers the demo accounts, and runs the API until SIGINT/SIGTERM. A grant made directly on
// the contract before a stop is still there after the next start, on the same contract; two
// instances run side by side; with CHAIN_RPC_URL and CONTRACT_ADDRESS it runs no chain of its own;
// a saved deployment the chain no longer holds stops the start with an explanation.
//
// The web app is not built here: the API runs without it. The API and the contracts are built once
// if they are missing or out of date.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HDNodeWallet, JsonRpcProvider, Wallet } from 'ethers';
import { categoryId } from '../../libs/chain/src/categories';
import { HealthRecordAccessControl__factory } from '../../libs/chain/src/typechain';

const ROOT = path.resolve(__dirname, '../..');
const MNEMONIC = 'test test test test test test test test test test test junk';
const devAccount = (index: number) => HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
const PROVIDER = devAccount(1).address; // the first demo provider
const PATIENT = devAccount(5); // the demo patient
const READY_TIMEOUT_MS = 45_000;

interface Running {
  url: string;
  chainUrl: string;
  contract: string;
}

/** One `node scripts/start.cjs` and everything it printed. */
class Start {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly dataDir: string,
    env: Record<string, string>,
    args: string[] = [],
  ) {
    this.child = spawn(process.execPath, ['scripts/start.cjs', '--no-build', ...args], {
      cwd: ROOT,
      env: { ...cleanEnv(), CUSTOS_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(this);
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Waits for "Custos is running at ..." and returns what it names. */
  async running(): Promise<Running> {
    const line = /Custos is running at (\S+) \(chain (\S+), contract (0x[0-9a-fA-F]{40})\)/;
    let gone = false;
    void this.exited.then(() => (gone = true));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const match = line.exec(this.output);
      if (match) return { url: match[1]!, chainUrl: match[2]!, contract: match[3]! };
      if (gone) assert.fail(`npm start exited before it was running:\n${this.output}`);
      if (Date.now() > deadline)
        assert.fail(`npm start was not running after ${READY_TIMEOUT_MS} ms:\n${this.output}`);
      await sleep(100);
    }
  }

  async stop(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    const { code, signal: killedBy } = await this.exited;
    assert.equal(killedBy, null, `npm start was killed by ${killedBy}:\n${this.output}`);
    return code;
  }
}

const started: Start[] = [];
const folders: string[] = [];

/** The environment without the settings that would change what is tested (a developer's own .env aside). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  for (const name of [
    'CHAIN_RPC_URL',
    'CHAIN_ID',
    'CONTRACT_ADDRESS',
    'RELAYER_PRIVATE_KEY',
    'CUSTOS_DEMO',
    'CUSTOS_CHAIN_PORT',
    'CUSTOS_BLOCK_TIME',
    'CUSTOS_ADMIN_ADDRESS',
    'HOST',
    'PUBLIC_URL',
    'EVENTSTORE_URL',
    'MONGODB_URI',
    'IPFS_API_URL',
  ]) {
    env[name] = ''; // empty: unset, and not filled in from a .env file
  }
  return { ...env, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
}

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-start-'));
  folders.push(dir);
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ports for an instance: the API's and its chain's (PORT + 5545 could be taken on a busy machine). */
async function ports(): Promise<{ PORT: string; CUSTOS_CHAIN_PORT: string }> {
  return { PORT: String(await freePort()), CUSTOS_CHAIN_PORT: String(await freePort()) };
}

interface Health {
  status: string;
  components: Record<string, { status: string; detail?: string }>;
}

/** GET /health until it says ok (the mirror may still be catching up right after the start). */
async function healthOk(url: string): Promise<Health> {
  let last: Health | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await fetch(`${url}/health`);
    last = (await response.json()) as Health;
    if (response.status === 200 && last.status === 'ok') return last;
    await sleep(200);
  }
  assert.fail(`GET ${url}/health is not ok: ${JSON.stringify(last)}`);
}

function newest(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(target).map((entry) => newest(path.join(target, entry))));
}

function npmRun(script: string): void {
  const result = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, stdio: 'inherit' });
  assert.equal(result.status, 0, `npm run ${script} failed`);
}

describe('npm start: the product on one machine', () => {
  const provider = (url: string) =>
    new JsonRpcProvider(url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  let dirA: string;
  let portsA: Awaited<ReturnType<typeof ports>>;
  let first: Running;
  let a: Start;
  let expiresAt: bigint;
  const category = categoryId('lab_results');

  before(() => {
    const artifacts = path.join(ROOT, 'artifacts/contracts');
    if (newest(artifacts) === 0 || newest(path.join(ROOT, 'contracts')) > newest(artifacts))
      npmRun('build:contracts');
    const main = path.join(ROOT, 'dist/apps/api/src/main.js');
    const sources = ['apps/api/src', 'libs', 'tsconfig.base.json'].map((p) => newest(path.join(ROOT, p)));
    if (!existsSync(main) || Math.max(...sources) > newest(main)) npmRun('build:api');
  });

  after(async () => {
    // Nothing may outlive the suite: each start, and whatever it named in its instance file.
    for (const start of started) {
      if (start.child.exitCode === null && start.child.signalCode === null) start.child.kill('SIGKILL');
    }
    for (const dir of folders) {
      try {
        const instance = JSON.parse(readFileSync(path.join(dir, 'npm-start.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        for (const pid of [instance.apiPid, instance.anvilPid]) {
          if (typeof pid === 'number') {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      } catch {
        // no instance file: it stopped cleanly
      }
    }
    await sleep(100);
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  test('first start: runs a local chain, deploys the contract, registers the demo accounts', async () => {
    dirA = folder();
    portsA = await ports();
    a = new Start(dirA, portsA, ['--demo']);
    first = await a.running();

    assert.equal(first.url, `http://127.0.0.1:${portsA.PORT}`);
    assert.equal(first.chainUrl, `http://127.0.0.1:${portsA.CUSTOS_CHAIN_PORT}`);
    assert.match(a.output, /deploying HealthRecordAccessControl/);
    const deployment = JSON.parse(readFileSync(path.join(dirA, 'chain', 'deployment.json'), 'utf8'));
    assert.equal(deployment.chainId, 31337);
    assert.equal(deployment.address, first.contract);
    assert.equal(deployment.admin, devAccount(0).address);
    assert.ok(Number.isInteger(deployment.deployBlock) && deployment.deployBlock > 0);
    assert.match(deployment.deployTxHash, /^0x[0-9a-f]{64}$/);
    assert.ok(!Number.isNaN(Date.parse(deployment.deployedAt)));

    assert.match(a.output, /PUBLIC DEVELOPMENT KEYS/);
    assert.ok(a.output.includes(PROVIDER), 'the demo provider is printed');
    assert.ok(a.output.includes(devAccount(1).privateKey), "the demo provider's key is printed");
    assert.match(
      a.output,
      new RegExp(`admin +${devAccount(0).address} +private key ${devAccount(0).privateKey}`),
    );

    const chain = provider(first.chainUrl);
    try {
      const contract = HealthRecordAccessControl__factory.connect(first.contract, chain);
      assert.equal(await contract.hasRole(await contract.PROVIDER_ROLE(), PROVIDER), true);
      assert.equal(await contract.hasRole(await contract.EMERGENCY_ROLE(), devAccount(3).address), true);
      assert.equal(await contract.hasRole(await contract.AUDITOR_ROLE(), devAccount(4).address), true);
      assert.equal(await contract.hasRole(await contract.ANCHOR_ROLE(), devAccount(0).address), true);
    } finally {
      chain.destroy();
    }

    const health = await healthOk(first.url);
    assert.equal(health.components.chain?.status, 'up');
  });

  test('a grant made before Ctrl-C is still there after the next start, on the same contract', async () => {
    const chain = provider(first.chainUrl);
    try {
      const patient = new Wallet(PATIENT.privateKey, chain);
      const contract = HealthRecordAccessControl__factory.connect(first.contract, patient);
      const now = BigInt((await chain.getBlock('latest'))!.timestamp);
      expiresAt = now + 30n * 24n * 3600n;
      const receipt = await (await contract.grantAccess(PROVIDER, category, expiresAt)).wait();
      assert.equal(receipt?.status, 1);
      assert.equal(await contract.hasActiveAccess(PATIENT.address, PROVIDER, category), true);
    } finally {
      chain.destroy();
    }

    assert.equal(await a.stop('SIGINT'), 0, a.output);
    assert.ok(existsSync(path.join(dirA, 'chain', 'anvil-state.json')), 'the chain state is saved');
    assert.ok(!existsSync(path.join(dirA, 'npm-start.json')), 'the instance file is removed');
    assert.equal(await portIsFree(Number(portsA.CUSTOS_CHAIN_PORT)), true, 'anvil is stopped');
    assert.equal(await portIsFree(Number(portsA.PORT)), true, 'the API is stopped');

    a = new Start(dirA, portsA, ['--demo']);
    const again = await a.running();
    assert.equal(again.contract, first.contract, 'the same contract');
    assert.doesNotMatch(a.output, /deploying/);
    assert.match(a.output, /demo accounts already registered/);

    const chainAgain = provider(again.chainUrl);
    try {
      const contract = HealthRecordAccessControl__factory.connect(again.contract, chainAgain);
      assert.equal(await contract.hasActiveAccess(PATIENT.address, PROVIDER, category), true);
      assert.equal(await contract.accessExpiry(PATIENT.address, PROVIDER, category), expiresAt);
    } finally {
      chainAgain.destroy();
    }
    await healthOk(again.url);
  });

  test('a second instance with its own PORT and data folder runs side by side; when its API dies, it stops', async () => {
    const dirB = folder();
    const portsB = await ports();
    const b = new Start(dirB, portsB);
    const running = await b.running();
    assert.equal(running.url, `http://127.0.0.1:${portsB.PORT}`);
    assert.equal(running.chainUrl, `http://127.0.0.1:${portsB.CUSTOS_CHAIN_PORT}`);
    assert.notEqual(running.chainUrl, first.chainUrl);
    await healthOk(running.url);
    await healthOk(first.url);

    // When the API dies, npm start stops the chain and exits non-zero, saying why.
    const { apiPid } = JSON.parse(readFileSync(path.join(dirB, 'npm-start.json'), 'utf8')) as {
      apiPid: number;
    };
    process.kill(apiPid, 'SIGKILL');
    const { code } = await b.exited;
    assert.notEqual(code, 0, b.output);
    assert.match(b.output, /the API stopped unexpectedly \(killed by SIGKILL\)/);
    assert.equal(await portIsFree(Number(portsB.CUSTOS_CHAIN_PORT)), true, 'its anvil is stopped');
    assert.ok(existsSync(path.join(dirB, 'chain', 'anvil-state.json')), 'its chain state is saved');
    await healthOk(first.url);
  });

  test('with CHAIN_RPC_URL and CONTRACT_ADDRESS set it runs no chain of its own and deploys nothing', async () => {
    const dirC = folder();
    const { PORT, CUSTOS_CHAIN_PORT } = await ports();
    const c = new Start(dirC, {
      PORT,
      CUSTOS_CHAIN_PORT, // would be the local chain's port: it must stay free
      CHAIN_RPC_URL: first.chainUrl,
      CONTRACT_ADDRESS: first.contract,
      AUDIT_ANCHOR_INTERVAL: '0', // instance A's API anchors from the same account
    });
    const running = await c.running();
    assert.equal(running.chainUrl, first.chainUrl);
    assert.equal(running.contract, first.contract);
    assert.match(c.output, /npm start runs no chain of its own/);
    assert.doesNotMatch(c.output, /starting the local chain|deploying/);
    assert.equal(existsSync(path.join(dirC, 'chain', 'anvil-state.json')), false);
    assert.equal(existsSync(path.join(dirC, 'chain', 'deployment.json')), false);
    assert.equal(await portIsFree(Number(CUSTOS_CHAIN_PORT)), true);
    const health = await healthOk(running.url);
    assert.equal(health.components.chain?.status, 'up');
    assert.equal(await c.stop('SIGINT'), 0, c.output);
  });

  test('CHAIN_RPC_URL where no chain answers: exits 1 and says so', async () => {
    const c = new Start(folder(), {
      PORT: String(await freePort()),
      CHAIN_RPC_URL: `http://127.0.0.1:${await freePort()}`,
    });
    const { code } = await c.exited;
    assert.equal(code, 1, c.output);
    assert.match(c.output, /no chain node answers at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(c.output, /leave CHAIN_RPC_URL empty/);
  });

  test('a saved deployment the chain no longer holds: exits 1 with an explanation, nothing left running', async () => {
    const dirD = folder();
    const portsD = await ports();
    const gone = Wallet.createRandom().address;
    mkdirSync(path.join(dirD, 'chain'));
    writeFileSync(
      path.join(dirD, 'chain', 'deployment.json'),
      JSON.stringify({ chainId: 31337, address: gone, deployBlock: 1, admin: devAccount(0).address }),
    );
    const d = new Start(dirD, portsD);
    const { code } = await d.exited;
    assert.equal(code, 1, d.output);
    const message = d.output.replace(/\s+/g, ' ');
    assert.ok(
      message.includes(`has no contract at ${gone} saved in ${path.join(dirD, 'chain', 'deployment.json')}`),
      d.output,
    );
    assert.match(message, /the chain state was reset/);
    assert.match(
      message,
      /Delete \S+deployment\.json to deploy a new contract, which loses the on-chain consents/,
    );
    assert.doesNotMatch(message, /Custos is running/);
    assert.equal(await portIsFree(Number(portsD.CUSTOS_CHAIN_PORT)), true, 'its anvil is stopped');
    assert.equal(existsSync(path.join(dirD, 'npm-start.json')), false);
  });

  test('SIGTERM stops the first instance: exit code 0, its chain state kept', async () => {
    assert.equal(await a.stop('SIGTERM'), 0, a.output);
    assert.match(a.output, /stopping the API[\s\S]*stopping the chain/);
    assert.ok(existsSync(path.join(dirA, 'chain', 'anvil-state.json')));
    assert.equal(await portIsFree(Number(portsA.CUSTOS_CHAIN_PORT)), true);
  });
});
