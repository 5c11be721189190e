// A real local chain for tests: anvil (from @foundry-rs/anvil) on a free port of 127.0.0.1, and the
// HealthRecordAccessControl contract deployed on it with the TypeChain factory. Every anvil started
// here is killed by close(), and, should a test process die first, on its exit.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { HDNodeWallet, type JsonRpcProvider, Mnemonic, type Signer } from 'ethers';
import {
  createChainProvider,
  type HealthRecordAccessControl,
  HealthRecordAccessControl__factory,
} from '../../libs/chain/src';
import { DEVELOPMENT_MNEMONIC } from '../../apps/api/src/config/config.schema';

export const ANVIL_CHAIN_ID = 31337;
const ROOT = path.resolve(__dirname, '../..');

/** The anvil binary: the native one shipped in the platform package, else the npm wrapper. */
function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const native = path.join(
    ROOT,
    'node_modules',
    '@foundry-rs',
    `anvil-${process.platform}-${arch}`,
    'bin',
    'anvil',
  );
  return existsSync(native) ? native : path.join(ROOT, 'node_modules', '.bin', 'anvil');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface Anvil {
  url: string;
  port: number;
  /** A raw JSON-RPC call (anvil_mine, anvil_reorg, evm_snapshot...). */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** Stops anvil (SIGTERM, so that `--state` is written) and waits for it to exit. */
  close(): Promise<void>;
}

export interface AnvilOptions {
  /** Default: a free port. */
  port?: number;
  /** `--state FILE`: load the chain from FILE if it exists, write it there on exit. */
  state?: string;
}

export async function rpcCall<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const port = options.port ?? (await freePort());
  const args = ['--host', '127.0.0.1', '--port', String(port), '--silent'];
  if (options.state) args.push('--state', options.state);
  const binary = anvilBinary();
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}: ${stderr}`);
    try {
      await rpcCall(url, 'eth_chainId');
      break;
    } catch {
      if (Date.now() > deadline) {
        await close();
        throw new Error(`anvil did not answer on ${url}: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { url, port, rpc: (method, params) => rpcCall(url, method, params), close };
}

/** anvil's funded development account #i (10 of them). */
export function devWallet(index: number, provider?: JsonRpcProvider): HDNodeWallet {
  const wallet = HDNodeWallet.fromMnemonic(
    Mnemonic.fromPhrase(DEVELOPMENT_MNEMONIC),
    `m/44'/60'/0'/0/${index}`,
  );
  return provider ? wallet.connect(provider) : wallet;
}

export interface Deployed {
  provider: JsonRpcProvider;
  contract: HealthRecordAccessControl;
  /** Lower case. */
  address: string;
  deployBlock: number;
  /** Account #0, the admin. */
  admin: HDNodeWallet;
  /** The contract as `signer` sees it (transactions from that account). */
  as(signer: Signer): HealthRecordAccessControl;
  /** Development account #i on this chain (send one transaction at a time: nonces come from the node). */
  account(index: number): HDNodeWallet;
  close(): void;
}

/** Deploys HealthRecordAccessControl (admin: account #0, no admin delay) on the chain at `url`. */
export async function deployContract(url: string): Promise<Deployed> {
  const provider = createChainProvider(url, ANVIL_CHAIN_ID);
  const account = (index: number) => devWallet(index, provider);
  const admin = account(0);
  const contract = await new HealthRecordAccessControl__factory(admin).deploy(0, admin.address);
  const receipt = await contract.deploymentTransaction()!.wait();
  const address = (await contract.getAddress()).toLowerCase();
  return {
    provider,
    contract,
    address,
    deployBlock: receipt!.blockNumber,
    admin,
    as: (signer) => HealthRecordAccessControl__factory.connect(address, signer),
    account,
    close: () => provider.destroy(),
  };
}
