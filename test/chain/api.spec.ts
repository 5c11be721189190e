// The whole path on a real node: a grant made on the contract → the chain mirror → the event store →
// the projections → GET /providers/me/patients. The API boots as `npm start` runs it: the contract
// address and deployment block come from <CUSTOS_DATA_DIR>/chain/deployment.json.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { categoryId } from '../../libs/chain/src';
import { signIn } from '../../apps/api/src/auth/testing';
import { createApp } from '../../apps/api/src/bootstrap';
import { deploymentFile } from '../../apps/api/src/chain/deployment';
import { loadConfig } from '../../apps/api/src/config/load-config';
import { TestApi } from '../api/harness';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from './anvil';

const lower = (value: string) => value.toLowerCase();

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the API with the chain mirror on a real node', () => {
  let anvil: Anvil;
  let d: Deployed;
  let dataDir: string;
  let app: NestFastifyApplication;
  let request: (options: InjectOptions) => Promise<LightMyRequestResponse>;
  let closed = false;

  before(async () => {
    anvil = await startAnvil();
    d = await deployContract(anvil.url);
    dataDir = mkdtempSync(path.join(tmpdir(), 'custos-chain-api-'));
    const file = deploymentFile(dataDir);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        chainId: ANVIL_CHAIN_ID,
        address: d.address,
        deployBlock: d.deployBlock,
        deployTxHash: d.contract.deploymentTransaction()?.hash,
        admin: d.admin.address,
        deployedAt: new Date().toISOString(),
      }),
    );
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'fatal',
      CUSTOS_DATA_DIR: dataDir,
      WEB_DIST_DIR: path.join(dataDir, 'no-web-build'),
      AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
      CHAIN_RPC_URL: anvil.url,
      CHAIN_POLL_INTERVAL: '100ms',
    });
    app = await createApp(config, { logger: false });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
    await fastify.ready();
    request = (options) => fastify.inject(options);
  });

  after(async () => {
    if (!closed) await app?.close();
    d?.close();
    await anvil?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('a grant made on the contract shows in GET /providers/me/patients; its revocation removes it', async () => {
    const [provider, patient] = [d.account(1), d.account(2)];
    await (await d.contract.grantRole(await d.contract.PROVIDER_ROLE(), provider.address)).wait();
    const expiresAt = (await d.provider.getBlock('latest'))!.timestamp + 7 * 86_400;
    await (await d.as(patient).grantAccess(provider.address, categoryId('lab_results'), expiresAt)).wait();

    const token = await signIn(request, provider);
    const patients = async () => {
      const res = await request({
        method: 'GET',
        url: '/providers/me/patients',
        headers: { authorization: `Bearer ${token}` },
      });
      // 403 until the mirrored RoleGranted reaches the directory.
      return res.statusCode === 200
        ? res.json<{ items: { patient: string; category: string; expiresAt: number }[] }>().items
        : undefined;
    };
    const items = await waitFor('the grant', async () => {
      const found = await patients();
      return found && found.length > 0 ? found : undefined;
    });
    assert.deepEqual(
      items.map(({ patient: p, category, expiresAt: e }) => ({ patient: p, category, expiresAt: e })),
      [{ patient: lower(patient.address), category: 'lab_results', expiresAt }],
    );

    await (await d.as(patient).revokeAccess(provider.address, categoryId('lab_results'))).wait();
    await waitFor('the revocation', async () => ((await patients())?.length === 0 ? true : undefined));

    const health = (await request({ method: 'GET', url: '/health' })).json();
    assert.equal(health.components.chainMirror.status, 'up');
    // The mirror records the block it reached once its poll ends, just after the events it appended
    // reached the read models: the metric may be a poll behind what the screens already show.
    const head = await d.provider.getBlockNumber();
    const metrics = await waitFor('the mirror to report the head block', async () => {
      const body = (await request({ method: 'GET', url: '/metrics' })).body;
      return new RegExp(`^custos_chain_mirror_block ${head}$`, 'm').test(body) ? body : undefined;
    });
    assert.match(metrics, /^custos_chain_mirror_lag_blocks 0$/m);
  });

  test('a grant that expires: once chain time passes its expiry the chain and the API both deny it', async () => {
    const [provider, patient] = [d.account(1), d.account(5)];
    const token = await signIn(request, provider);
    const expiresAt = (await d.provider.getBlock('latest'))!.timestamp + 3;
    await (await d.as(patient).grantAccess(provider.address, categoryId('imaging'), expiresAt)).wait();
    const imaging = async () => {
      const res = await request({
        method: 'GET',
        url: '/providers/me/patients',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      return res
        .json<{ items: { patient: string; category: string }[] }>()
        .items.filter((i) => i.patient === lower(patient.address) && i.category === 'imaging');
    };
    await waitFor('the short grant', async () => ((await imaging()).length === 1 ? true : undefined));

    // Chain time moves past the expiry: the contract says no.
    await anvil.rpc('evm_increaseTime', [5]);
    await anvil.rpc('evm_mine');
    assert.equal(
      await d.contract.hasActiveAccess(patient.address, provider.address, categoryId('imaging')),
      false,
    );
    // The API's gate reads the expiry from the projection against its own clock: denied once it passes,
    // with no event needed (expiry is not an event on-chain either).
    await waitFor('the API to deny the expired grant', async () =>
      (await imaging()).length === 0 && Date.now() / 1000 >= expiresAt ? true : undefined,
    );
    const consents = await request({
      method: 'GET',
      url: '/providers/me/patients',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok(!consents.body.includes(lower(patient.address)));
  });

  test('when the node goes away /health reports the mirror degraded, and the API still answers', async () => {
    await anvil.close();
    const mirror = await waitFor('a degraded mirror', async () => {
      const res = await request({ method: 'GET', url: '/health' });
      const component = res.json().components.chainMirror as { status: string; detail: string };
      return res.statusCode === 200 && component.status === 'degraded' ? component : undefined;
    });
    assert.match(mirror.detail, /mirror behind\/unreachable/);
    assert.doesNotMatch(mirror.detail, new RegExp(anvil.url.replace(/[.:/]/g, '\\$&') + '/'));
    const started = Date.now();
    closed = true;
    await app.close();
    assert.ok(Date.now() - started < 3_000, 'the app closes promptly while the mirror is retrying');
  });
});

describe('the API without a contract', () => {
  test('runs no mirror and says so in /health', async () => {
    const api = await TestApi.start();
    try {
      const health = (await api.get('/health')).json();
      assert.deepEqual(health.components.chainMirror, {
        status: 'up',
        detail: 'off: no contract configured',
      });
      assert.doesNotMatch((await api.get('/metrics')).body, /custos_chain_mirror_block/);
    } finally {
      await api.close();
    }
  });
});
