// Runs main.ts as a real process: it fails fast on a bad setting, serves
// /health on the configured address, keeps secrets out of its logs and exits
// cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { startChainStub } from './testing/chain-stub';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(__dirname, 'main.ts');

/** Starts main.ts in an empty working folder (no .env, no web build). */
function start(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['-r', require.resolve('@swc-node/register'), MAIN], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
      NODE_ENV: 'test',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function waitFor(
  output: () => string,
  pattern: RegExp,
  child: ChildProcess,
  ms = 20_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const match = output().match(pattern);
    if (match) return match;
    if (child.exitCode !== null) assert.fail(`the API exited (${child.exitCode}) early:\n${output()}`);
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${pattern}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('main.ts', () => {
  let cwd: string;
  before(() => {
    cwd = mkdtempSync(path.join(tmpdir(), 'custos-main-'));
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  test('a bad setting stops the process at once with exit code 1 and names the variable', async () => {
    const { child, output } = start({ PORT: 'abc', CHAIN_RPC_URL: 'not-a-url' }, cwd);
    const { code } = await exited(child);
    assert.equal(code, 1);
    assert.match(output(), /PORT must be a whole number/);
    assert.match(output(), /CHAIN_RPC_URL must be a URL/);
    assert.doesNotMatch(output(), /Nest application successfully started/);
  });

  test('production without its required settings does not start', async () => {
    const { child, output } = start({ NODE_ENV: 'production' }, cwd);
    assert.equal((await exited(child)).code, 1);
    assert.match(output(), /RELAYER_PRIVATE_KEY is required when NODE_ENV=production/);
    assert.match(output(), /EVENTSTORE_URL is required when NODE_ENV=production/);
  });

  test("without HOST it binds 127.0.0.1 only: not reachable on the machine's other addresses", async () => {
    const chain = await startChainStub();
    after(() => chain.close());
    const { child, output } = start({ PORT: '0', CHAIN_RPC_URL: chain.url, CUSTOS_DATA_DIR: cwd }, cwd);
    try {
      const [, host, port] = await waitFor(output, /listening on http:\/\/(\S+):(\d+)/, child);
      assert.equal(host, '127.0.0.1');
      assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
      const others = Object.values(networkInterfaces())
        .flat()
        .filter((nic) => nic !== undefined && !nic.internal && nic.family === 'IPv4')
        .map((nic) => nic!.address);
      for (const address of others) {
        await assert.rejects(
          fetch(`http://${address}:${port}/health`, { signal: AbortSignal.timeout(5000) }),
          `reachable on ${address}`,
        );
      }
      child.kill('SIGTERM');
      assert.equal((await exited(child)).code, 0, output());
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('it serves /health on HOST:PORT, logs no secret even at trace level, and exits 0 on SIGTERM', async () => {
    const chain = await startChainStub();
    after(() => chain.close());
    const relayerKey = Wallet.createRandom().privateKey;
    const tokenSecret = `canary-token-secret-${'z'.repeat(24)}`;
    const { child, output } = start(
      {
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'trace',
        RELAYER_PRIVATE_KEY: relayerKey,
        AUTH_TOKEN_SECRET: tokenSecret,
        TRTC_SDK_APP_ID: '1400000000',
        TRTC_SECRET_KEY: 'canary-trtc-secret',
        CHAIN_RPC_URL: `${chain.url}/canary-rpc-key`,
        // No MONGODB_URI here: the API connects at start-up and would wait for a server that is not
        // there. config.schema.spec checks that a MongoDB password never reaches the logs.
        CUSTOS_DATA_DIR: cwd,
      },
      cwd,
    );
    try {
      const [, port] = await waitFor(output, /listening on http:\/\/127\.0\.0\.1:(\d+)/, child);
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { status: string }).status, 'ok');
      const denied = await fetch(`http://127.0.0.1:${port}/consents`);
      assert.equal(denied.status, 401);
      await waitFor(output, /Configuration \(secrets hidden\)/, child);

      child.kill('SIGTERM');
      const { code } = await exited(child);
      assert.equal(code, 0, output());
    } finally {
      child.kill('SIGKILL');
    }
    for (const secret of [relayerKey.slice(2), tokenSecret, 'canary-trtc-secret', 'canary-rpc-key']) {
      assert.ok(!output().includes(secret), `the logs contain a secret (${secret.slice(0, 10)}…)`);
    }
  });
});
