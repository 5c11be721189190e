// Suite 1: Sign-In with Ethereum end to end with real wallets, and roles read from the directory read
// model on every request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { SiweMessage } from 'siwe';
import type { NonceResponse } from '../../apps/api/src/auth/auth.dto';
import { siweFields } from '../../apps/api/src/auth/testing';
import { TestApi } from './harness';

describe('signing in with a wallet', () => {
  let api: TestApi;
  before(async () => (api = await TestApi.start()));
  after(() => api.close());

  test('a wallet signs the EIP-4361 message and gets a Bearer token that opens GET /auth/me', async () => {
    const wallet = Wallet.createRandom();
    const nonce = (await api.post('/auth/nonce', undefined)).json<NonceResponse>();
    assert.match(nonce.nonce, /^\w{8,}$/);
    assert.equal(typeof nonce.chainId, 'number');
    const message = new SiweMessage(siweFields(wallet, nonce)).prepareMessage();
    const signature = await wallet.signMessage(message);

    const verified = await api.post('/auth/verify', { message, signature });
    assert.equal(verified.statusCode, 200, verified.body);
    const session = verified.json<{ token: string; expiresAt: string; address: string }>();
    assert.equal(session.address, wallet.address);
    assert.ok(Date.parse(session.expiresAt) > Date.now());

    const me = await api.get('/auth/me', session.token);
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json(), { address: wallet.address, roles: [] });
  });

  test('a nonce works once: replaying a signed message is refused', async () => {
    const wallet = Wallet.createRandom();
    const nonce = (await api.post('/auth/nonce', undefined)).json<NonceResponse>();
    const message = new SiweMessage(siweFields(wallet, nonce)).prepareMessage();
    const signature = await wallet.signMessage(message);
    assert.equal((await api.post('/auth/verify', { message, signature })).statusCode, 200);
    const replay = await api.post('/auth/verify', { message, signature });
    assert.equal(replay.statusCode, 401);
    assert.match(replay.json<{ message: string }>().message, /nonce/);
  });

  test('a message signed by another wallet than the one it names is refused', async () => {
    const wallet = Wallet.createRandom();
    const impostor = Wallet.createRandom();
    const nonce = (await api.post('/auth/nonce', undefined)).json<NonceResponse>();
    const message = new SiweMessage(siweFields(wallet, nonce)).prepareMessage();
    const res = await api.post('/auth/verify', { message, signature: await impostor.signMessage(message) });
    assert.equal(res.statusCode, 401);
    assert.doesNotMatch(res.body, /token/i);
  });

  test('a message for another domain or chain is refused', async () => {
    const wallet = Wallet.createRandom();
    for (const override of [{ domain: 'evil.example' }, { chainId: 1 }]) {
      const nonce = (await api.post('/auth/nonce', undefined)).json<NonceResponse>();
      const message = new SiweMessage({ ...siweFields(wallet, nonce), ...override }).prepareMessage();
      const res = await api.post('/auth/verify', { message, signature: await wallet.signMessage(message) });
      assert.equal(res.statusCode, 401, JSON.stringify(override));
      assert.match(res.json<{ message: string }>().message, /wrong (domain|chain id)/);
    }
  });

  test('GET /auth/me lists the roles the directory read model holds for the wallet', async () => {
    const user = await api.newUser();
    await api.giveRole(user.address, 'provider');
    await api.giveRole(user.address, 'auditor');
    const me = await api.get('/auth/me', user.token);
    assert.equal(me.statusCode, 200);
    assert.deepEqual([...me.json<{ roles: string[] }>().roles].sort(), ['auditor', 'provider']);
  });

  test('a role revoked on the chain is gone on the next request, without signing in again', async () => {
    const user = await api.newUser('auditor', 'provider');
    assert.equal((await api.get('/audit', user.token)).statusCode, 200);

    await api.takeRole(user.address, 'auditor');

    const me = await api.get('/auth/me', user.token);
    assert.deepEqual(me.json<{ roles: string[] }>().roles, ['provider']);
    const audit = await api.get('/audit', user.token);
    assert.equal(audit.statusCode, 403);
    assert.match(audit.json<{ message: string }>().message, /auditor role/);
  });

  test('after signing out, the same token is refused', async () => {
    const user = await api.newUser();
    assert.equal((await api.request('POST', '/auth/sign-out', { token: user.token })).statusCode, 204);
    const me = await api.get('/auth/me', user.token);
    assert.equal(me.statusCode, 401);
    assert.match(me.json<{ message: string }>().message, /revoked/);
  });
});
