// Tencent Chat credentials: a UserSig for the signed-in account's own chat user id, checked by decoding
// it as Tencent does (base64 with `+/=` spelled `*-_`, zlib-deflated JSON, HMAC-SHA256 over the fields).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { AccessAuditedData } from '@custos/domain';
import { CHAT_USER_SIG_SECONDS, chatUserId } from '../../apps/api/src/messaging/chat-credentials';
import type { ChatCredentials } from '../../apps/api/src/messaging/messaging.dto';
import { TestApi, type User } from '../api/harness';

const SDK_APP_ID = 1400000001;
const SECRET = 'chat-secret-for-tests-only';

interface UserSigDocument {
  'TLS.ver': string;
  'TLS.identifier': string;
  'TLS.sdkappid': number;
  'TLS.time': number;
  'TLS.expire': number;
  'TLS.sig': string;
}

function decodeUserSig(userSig: string): UserSigDocument {
  const base64 = userSig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  return JSON.parse(inflateSync(Buffer.from(base64, 'base64')).toString('utf8')) as UserSigDocument;
}

describe('Tencent Chat credentials', () => {
  describe('with TENCENT_CHAT_* set', () => {
    let api: TestApi;
    let user: User;
    before(async () => {
      api = await TestApi.start({
        TENCENT_CHAT_SDK_APP_ID: String(SDK_APP_ID),
        TENCENT_CHAT_SECRET_KEY: SECRET,
      });
      user = await api.newUser();
    });
    after(() => api.close());

    test('a UserSig for my own chat user id, valid for at most 7 days, signed with the secret', async () => {
      const head = await api.eventStore.headPosition();
      const before = Math.floor(Date.now() / 1000);
      const res = await api.post('/messaging/chat-credentials', undefined, user.token);
      assert.equal(res.statusCode, 200, res.body);
      const credentials = res.json<ChatCredentials>();
      assert.equal(credentials.sdkAppId, SDK_APP_ID);
      assert.equal(credentials.userId, chatUserId(user.address));
      assert.match(credentials.userId, /^[a-z2-7]{32}$/, 'within Tencent’s 32 characters and alphabet');

      const sig = decodeUserSig(credentials.userSig);
      assert.equal(sig['TLS.ver'], '2.0');
      assert.equal(sig['TLS.identifier'], credentials.userId);
      assert.equal(sig['TLS.sdkappid'], SDK_APP_ID);
      assert.equal(sig['TLS.expire'], CHAT_USER_SIG_SECONDS);
      assert.ok(sig['TLS.expire'] <= 7 * 24 * 3600);
      assert.ok(sig['TLS.time'] >= before && sig['TLS.time'] <= before + 5);
      assert.ok(credentials.expiresAt <= sig['TLS.time'] + sig['TLS.expire']);
      assert.ok(credentials.expiresAt >= before + CHAT_USER_SIG_SECONDS - 5);
      const signed =
        `TLS.identifier:${sig['TLS.identifier']}\nTLS.sdkappid:${sig['TLS.sdkappid']}\n` +
        `TLS.time:${sig['TLS.time']}\nTLS.expire:${sig['TLS.expire']}\n`;
      assert.equal(sig['TLS.sig'], createHmac('sha256', SECRET).update(signed).digest('base64'));

      // The issuance is in the audit trail; the secret and the UserSig are not.
      const audited = (await api.events(head)).filter((e) => e.type === 'AccessAudited');
      assert.equal(audited.length, 1);
      const data = audited[0]!.data as AccessAuditedData;
      assert.equal(data.action, 'issue_chat_credentials');
      assert.equal(data.outcome, 'allowed');
      assert.doesNotMatch(
        JSON.stringify(await api.events()),
        new RegExp(`${SECRET}|${credentials.userSig.slice(0, 40)}`),
      );
    });

    test('the request names no user: asking for someone else’s id still gets my own', async () => {
      const other = await api.newUser();
      const res = await api.post(
        '/messaging/chat-credentials',
        { userId: chatUserId(other.address) },
        user.token,
      );
      assert.equal(res.statusCode, 200, res.body);
      const credentials = res.json<ChatCredentials>();
      assert.equal(credentials.userId, chatUserId(user.address));
      assert.equal(decodeUserSig(credentials.userSig)['TLS.identifier'], chatUserId(user.address));
    });

    test('chat user ids are the address bytes in base32: distinct, case-proof, reversible', () => {
      const a = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
      assert.equal(chatUserId(a), chatUserId(a.toUpperCase().replace('0X', '0x')));
      assert.notEqual(chatUserId(a), chatUserId('0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc'));
      assert.equal(chatUserId('0x0000000000000000000000000000000000000000'), 'a'.repeat(32));
      assert.equal(chatUserId(`0x${'ff'.repeat(20)}`), '7'.repeat(32));
    });
  });

  describe('without TENCENT_CHAT_* set', () => {
    let api: TestApi;
    before(async () => {
      api = await TestApi.start();
    });
    after(() => api.close());

    test('503, saying that messages travel over the WebSocket', async () => {
      const user = await api.newUser();
      const before = await api.eventCount();
      const res = await api.post('/messaging/chat-credentials', undefined, user.token);
      assert.equal(res.statusCode, 503);
      assert.match(
        res.json<{ message: string }>().message,
        /Tencent Chat is not configured.*\/messages\/live/,
      );
      assert.equal(await api.eventCount(), before);
    });
  });
});
