// The product as a newcomer runs it: `node scripts/start.cjs --demo --no-build` (npm start without the
// build step, which `npm run test:browser` does first) on a temporary data folder and free ports,
// stopped with SIGINT like Ctrl-C. The demo accounts it prints are parsed for the tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../chain/anvil';

const ROOT = path.resolve(__dirname, '../..');
const READY_TIMEOUT_MS = 90_000;

export interface DemoAccount {
  label: string;
  address: string;
  privateKey: string;
}

export interface RunningProduct {
  url: string;
  chainUrl: string;
  contract: string;
  dataDir: string;
  accounts: DemoAccount[];
  /** The demo account with this label (the first one when several share it). */
  account(label: string): DemoAccount;
  /** Everything npm start printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Settings a developer's shell or .env could hold that would change what is tested: cleared. */
const CLEARED = [
  'CHAIN_RPC_URL',
  'CHAIN_ID',
  'CONTRACT_ADDRESS',
  'RELAYER_PRIVATE_KEY',
  'CUSTOS_CHAIN_PORT',
  'CUSTOS_ADMIN_ADDRESS',
  'HOST',
  'PUBLIC_URL',
  'EVENTSTORE_URL',
  'MONGODB_URI',
  'IPFS_API_URL',
  'TRTC_SDK_APP_ID',
  'TRTC_SECRET_KEY',
  'TENCENT_CHAT_SDK_APP_ID',
  'TENCENT_CHAT_SECRET_KEY',
];

export async function startProduct(env: Record<string, string> = {}): Promise<RunningProduct> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-browser-'));
  const port = await freePort();
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) childEnv[name] = value;
  for (const name of CLEARED) childEnv[name] = '';
  const child: ChildProcess = spawn(process.execPath, ['scripts/start.cjs', '--demo', '--no-build'], {
    cwd: ROOT,
    env: {
      ...childEnv,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      CUSTOS_CHAIN_PORT: String(await freePort()),
      CUSTOS_DATA_DIR: dataDir,
      // Anchors often enough to be seen in a short story.
      AUDIT_ANCHOR_INTERVAL: '5s',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  process.once('exit', () => child.kill('SIGKILL'));

  const ready = /Custos is running at (\S+) \(chain (\S+), contract (0x[0-9a-fA-F]{40})\)/;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let match: RegExpExecArray | null;
  while (!(match = ready.exec(output))) {
    if (gone) throw new Error(`npm start exited before it was running:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`npm start was not running after ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const accounts = [
    ...output.matchAll(/^ {2}(.+?) +(0x[0-9a-fA-F]{40}) +private key (0x[0-9a-f]{64})$/gm),
  ].map((m) => ({ label: m[1]!.trim(), address: m[2]!, privateKey: m[3]! }));
  return {
    url: match[1]!,
    chainUrl: match[2]!,
    contract: match[3]!.toLowerCase(),
    dataDir,
    accounts,
    account(label) {
      const found = accounts.find((a) => a.label === label);
      if (!found) throw new Error(`no demo account "${label}" in:\n${output}`);
      return found;
    },
    output: () => output,
    async stop() {
      if (!gone) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
