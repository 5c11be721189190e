// Issue 8's abuse limits and session hygiene end to end, on the real API (TestApi): rate limits on
// sign-in, relays, call credentials and record uploads (429 with Retry-After, per address or per
// account, nothing appended or stored), record uploads limited to RECORD_MAX_BYTES and refused before
// they are read, and a
// signed-out token that stays refused after a restart.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { contentAddress } from '@custos/records';
import { Wallet } from 'ethers';
import { BLOB_STORE, type BlobStore } from '../../apps/api/src/blob-store/blob-store.port';
import { DAY, type Response, TestApi, type User, until } from './harness';

function assertRateLimited(res: Response, setting: string): void {
  assert.equal(res.statusCode, 429, res.body);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${res.headers['retry-after']}`);
  const body = res.json<{ statusCode: number; code: string; limit: string; message: string }>();
  assert.equal(body.statusCode, 429);
  assert.equal(body.code, 'rate_limited');
  assert.equal(body.limit, setting);
  assert.match(body.message, new RegExp(`\\(${setting}\\)\\. Retry in ${retryAfter} s\\.$`));
}

describe('sign-in rate limit: RATE_LIMIT_SIGN_IN per address per RATE_LIMIT_WINDOW', () => {
  let api: TestApi;
  before(async () => (api = await TestApi.start({ RATE_LIMIT_SIGN_IN: '3', RATE_LIMIT_WINDOW: '2s' })));
  after(() => api.close());

  const nonce = (remoteAddress = '127.0.0.1') =>
    api.inject({ method: 'POST', url: '/auth/nonce', remoteAddress });

  test('over the limit: 429 with Retry-After naming the limit; other addresses are not affected; the window resets', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await nonce()).statusCode, 201);
    assertRateLimited(await nonce(), 'RATE_LIMIT_SIGN_IN');
    const verify = await api.inject({
      method: 'POST',
      url: '/auth/verify',
      payload: { message: 'x', signature: '0x00' },
    });
    assertRateLimited(verify, 'RATE_LIMIT_SIGN_IN'); // one count for every POST /auth/*
    assert.equal((await nonce('192.0.2.7')).statusCode, 201, 'another address has its own count');

    await until('the window to reset', async () => (await nonce()).statusCode === 201, 5_000);
  });
});

describe('relay and credential rate limits: per account, or per address when not signed in', () => {
  let api: TestApi;
  let patient: User;
  let provider: User;
  let colleague: User;
  let sessionId: string;

  before(async () => {
    api = await TestApi.start({ RATE_LIMIT_RELAY: '2', RATE_LIMIT_CREDENTIALS: '2' });
    patient = await api.newUser();
    provider = await api.newUser('provider');
    colleague = await api.newUser('provider');
    const inAMonth = new Date(Date.now() + 30 * DAY * 1000);
    await api.grant(patient.address, provider.address, 'general', inAMonth);
    const scheduled = await api.post(
      '/sessions',
      {
        patient: patient.address,
        category: 'general',
        startsAt: new Date(Date.now() + 5_000).toISOString(),
        durationMinutes: 60,
      },
      provider.token,
    );
    assert.equal(scheduled.statusCode, 201, scheduled.body);
    sessionId = scheduled.json<{ id: string }>().id;
  });
  after(() => api.close());

  test('credentials: the third request of an account in the window is a 429 and appends no event', async () => {
    const credentials = (user: User) => api.post(`/sessions/${sessionId}/credentials`, {}, user.token);
    for (let i = 0; i < 2; i++) assert.equal((await credentials(provider)).statusCode, 200);
    const before = await api.eventCount();
    assertRateLimited(await credentials(provider), 'RATE_LIMIT_CREDENTIALS');
    assert.equal(await api.eventCount(), before, 'nothing appended, not even an audit event');

    // Another account from the same address has its own count (it is refused by the gate, audited).
    const other = await credentials(colleague);
    assert.notEqual(other.statusCode, 429, other.body);
    assert.ok((await api.eventCount()) > before, 'the colleague was audited');
  });

  test('relays: anonymous callers are counted per address (their 401s are audited, the 429 is not)', async () => {
    const grant = (remoteAddress: string) =>
      api.inject({ method: 'POST', url: '/consents/grants', remoteAddress, payload: {} });
    for (let i = 0; i < 2; i++) assert.equal((await grant('198.51.100.1')).statusCode, 401);
    const before = await api.eventCount();
    assertRateLimited(await grant('198.51.100.1'), 'RATE_LIMIT_RELAY');
    // One count for every relay route.
    const revocation = await api.inject({
      method: 'POST',
      url: '/consents/revocations',
      remoteAddress: '198.51.100.1',
      payload: {},
    });
    assertRateLimited(revocation, 'RATE_LIMIT_RELAY');
    assert.equal(await api.eventCount(), before);
    assert.equal((await grant('198.51.100.2')).statusCode, 401, 'another address has its own count');
  });

  test('relays: a signed-in patient is counted on their own account', async () => {
    for (let i = 0; i < 2; i++) {
      assert.equal((await api.post('/consents/grants', {}, patient.token)).statusCode, 400);
    }
    assertRateLimited(await api.post('/consents/grants/batch', {}, patient.token), 'RATE_LIMIT_RELAY');
  });
});

describe('refused requests: RATE_LIMIT_REFUSED per account, or per address when not signed in', () => {
  let api: TestApi;
  before(async () => (api = await TestApi.start({ RATE_LIMIT_REFUSED: '3', RATE_LIMIT_WINDOW: '2s' })));
  after(() => api.close());

  test('after 3 refusals (each audited) every request of the address is a 429 that records nothing, until the window ends', async () => {
    const consents = (remoteAddress: string) =>
      api.inject({ method: 'GET', url: '/patients/me/consents', remoteAddress });
    const before = await api.eventCount();
    // Paths that match no route are refused without an audit event, and not counted.
    for (let i = 0; i < 5; i++) {
      const missing = await api.inject({
        method: 'GET',
        url: '/main-old.js',
        remoteAddress: '198.51.100.20',
      });
      assert.equal(missing.statusCode, 401);
    }
    for (let i = 0; i < 3; i++) assert.equal((await consents('198.51.100.20')).statusCode, 401);
    assert.equal(await api.eventCount(), before + 3, 'each refusal is on the audit trail');
    assertRateLimited(await consents('198.51.100.20'), 'RATE_LIMIT_REFUSED');
    const health = await api.inject({ method: 'GET', url: '/health', remoteAddress: '198.51.100.20' });
    assertRateLimited(health, 'RATE_LIMIT_REFUSED'); // any route
    assert.match(health.json<{ message: string }>().message, /from this address/);
    assert.equal(await api.eventCount(), before + 3, 'the 429s record nothing');
    assert.equal((await consents('198.51.100.21')).statusCode, 401, 'another address has its own count');
    await until('the window to end', async () => (await consents('198.51.100.20')).statusCode === 401, 5_000);
  });

  test('a signed-in account is counted on its own: its 403s lock it out, not others at the same address', async () => {
    const patient = await api.newUser();
    const other = await api.newUser();
    for (let i = 0; i < 3; i++) assert.equal((await api.get('/audit', patient.token)).statusCode, 403);
    const locked = await api.get('/auth/me', patient.token);
    assertRateLimited(locked, 'RATE_LIMIT_REFUSED');
    assert.match(locked.json<{ message: string }>().message, /from this account/);
    assert.equal((await api.get('/auth/me', other.token)).statusCode, 200);
  });
});

describe('record uploads: up to RECORD_MAX_BYTES, refused before they are read', () => {
  let api: TestApi;
  let patient: User;
  before(async () => {
    api = await TestApi.start({ MAX_BODY_BYTES: '1024', RECORD_MAX_BYTES: '8192', RATE_LIMIT_UPLOADS: '5' });
    patient = await api.newUser();
  });
  after(() => api.close());

  const upload = (bytes: Buffer | Readable, token: string | null = patient.token, contentType?: string) =>
    api.inject({
      method: 'POST',
      url: '/records/blobs',
      headers: {
        'content-type': contentType ?? 'application/octet-stream',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      payload: bytes,
    });

  test('ciphertext over MAX_BODY_BYTES but within RECORD_MAX_BYTES is stored', async () => {
    const res = await upload(Buffer.alloc(4096, 7));
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json<{ size: number }>().size, 4096);
  });

  test('over RECORD_MAX_BYTES: 413 naming the limit, nothing appended', async () => {
    const before = await api.eventCount();
    const res = await upload(Buffer.alloc(8193));
    assert.equal(res.statusCode, 413);
    assert.match(
      res.json<{ message: string }>().message,
      /at most 8192 are accepted here \(RECORD_MAX_BYTES\)/,
    );
    assert.equal(await api.eventCount(), before);
  });

  test('JSON to the upload route is a 415, and held to MAX_BODY_BYTES: no way around the JSON limit', async () => {
    const json = (size: number) => Buffer.from(JSON.stringify({ padding: 'x'.repeat(size) }));
    const small = await upload(json(500), patient.token, 'application/json');
    assert.equal(small.statusCode, 415);
    assert.match(small.json<{ message: string }>().message, /takes application\/octet-stream/);
    const large = await upload(json(4000), patient.token, 'application/json');
    assert.equal(large.statusCode, 413);
    assert.match(
      large.json<{ message: string }>().message,
      /at most 1024 are accepted here \(MAX_BODY_BYTES\)/,
    );
  });

  test('uploads are counted per account: over RATE_LIMIT_UPLOADS a 429, nothing stored; others go on', async () => {
    const uploader = await api.newUser();
    for (let i = 0; i < 5; i++)
      assert.equal((await upload(Buffer.alloc(64, i), uploader.token)).statusCode, 201);
    const over = Buffer.alloc(64, 99);
    assertRateLimited(await upload(over, uploader.token), 'RATE_LIMIT_UPLOADS');
    const cid = await contentAddress(over);
    assert.equal(
      await api.app.get<BlobStore>(BLOB_STORE).size(cid),
      null,
      'the refused bytes were not stored',
    );
    assert.equal((await upload(over, (await api.newUser()).token)).statusCode, 201, 'another account');
  });

  test('an anonymous upload is refused (401) without waiting for its body', async () => {
    // A body that never ends: only a refusal before reading it can answer.
    const endless = new Readable({ read() {} });
    endless.push(Buffer.alloc(1000));
    const res = await upload(endless, null);
    endless.destroy();
    assert.equal(res.statusCode, 401);
    assert.match(res.json<{ message: string }>().message, /no credentials/);
  });
});

describe('sign-out', () => {
  let api: TestApi;
  before(async () => (api = await TestApi.start()));
  after(() => api.close());

  test("a signed-out token stays refused after a restart; the same account's other session does not", async () => {
    const wallet = Wallet.createRandom();
    const signedOut = await api.signIn(wallet);
    const stillIn = await api.signIn(wallet);
    assert.equal((await api.post('/auth/sign-out', undefined, signedOut)).statusCode, 204);
    assert.equal((await api.get('/auth/me', signedOut)).statusCode, 401);

    await api.reopen();
    const refused = await api.get('/auth/me', signedOut);
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json<{ message: string }>().message, /token revoked/);
    assert.equal((await api.get('/auth/me', stillIn)).statusCode, 200);
  });
});
