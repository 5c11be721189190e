// Telehealth with Tencent TRTC configured: credentials are a UserSig and a PrivateMapKey for exactly
// one room, with only the rights the role needs, expiring with the consultation. Both are decoded here
// (zlib-deflated JSON in tls-sig-api-v2's base64 variant) and their HMAC checked with the secret key.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TrtcCredentials } from '../../apps/api/src/telehealth/call-credentials.service';
import { addressOfTrtcUserId, TRTC_PRIVILEGE as P } from '../../apps/api/src/telehealth/trtc';
import { DAY, TestApi, type User } from '../api/harness';
import { credentials, MINUTE, schedule, startsIn } from './helpers';
import { decodeSig as decodeWith, decodeUserBuf, sigOf, withRoom } from './trtc-decode';

const SDK_APP_ID = 1400123456;
const SECRET_KEY = 'trtc-test-secret-key-0123456789abcdef';
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** Decodes and checks the HMAC with this suite's secret key. */
const decodeSig = (sig: string) => decodeWith(sig, SECRET_KEY);

describe('telehealth with TRTC: UserSig and a one-room PrivateMapKey', () => {
  let api: TestApi;
  let patient: User;
  let provider: User;
  let interpreter: User;

  before(async () => {
    api = await TestApi.start({ TRTC_SDK_APP_ID: String(SDK_APP_ID), TRTC_SECRET_KEY: SECRET_KEY });
    patient = await api.newUser();
    provider = await api.newUser('provider');
    interpreter = await api.newUser();
    await api.grant(patient.address, provider.address, 'telehealth', new Date(Date.now() + DAY * 1000));
  });
  after(() => api.close());

  test('the patient of a 30-minute video call: full rights in this room only, for 30 minutes at most', async () => {
    const id = await schedule(api, provider, patient, { durationMinutes: 30 });
    const { res } = await credentials(api, patient, id, { status: 200, outcome: 'allowed' });
    const body = res.json<TrtcCredentials>();
    const now = nowSeconds();
    assert.equal(body.mode, 'trtc');
    assert.equal(body.sdkAppId, SDK_APP_ID);
    assert.equal(body.roomId, `custos-${id.replace(/-/g, '')}`);
    assert.ok(body.roomId.length <= 64);
    assert.match(body.userId, /^[A-Za-z0-9_-]{1,32}$/, 'a TRTC user id');
    assert.equal(addressOfTrtcUserId(body.userId), patient.address);

    const userSig = decodeSig(body.userSig);
    assert.equal(userSig['TLS.identifier'], body.userId);
    assert.equal(userSig['TLS.sdkappid'], SDK_APP_ID);
    assert.equal(userSig['TLS.userbuf'], undefined);
    // Ends in 30 minutes plus 2 of grace, capped at 30 minutes from now.
    assert.ok(Math.abs(userSig['TLS.expire'] - 30 * MINUTE) <= 2, `expire ${userSig['TLS.expire']}`);
    assert.ok(Math.abs(userSig['TLS.time'] - now) <= 2);
    assert.ok(
      Math.abs(Date.parse(body.expiresAt) / 1000 - (userSig['TLS.time'] + userSig['TLS.expire'])) <= 2,
    );

    const key = decodeSig(body.privateMapKey);
    assert.equal(key['TLS.identifier'], body.userId);
    assert.equal(key['TLS.expire'], userSig['TLS.expire']);
    const buf = decodeUserBuf(key['TLS.userbuf']!);
    assert.deepEqual(
      { ...buf, expiresAt: undefined },
      {
        version: 1,
        account: body.userId,
        sdkAppId: SDK_APP_ID,
        authId: 0,
        expiresAt: undefined,
        privileges: 255,
        accountType: 0,
        roomId: body.roomId,
      },
    );
    assert.ok(Math.abs(buf.expiresAt - Date.parse(body.expiresAt) / 1000) <= 2);
  });

  test('a short call: both expire 2 minutes after its end', async () => {
    const id = await schedule(api, provider, patient, { durationMinutes: 5 });
    const body = (
      await credentials(api, provider, id, { status: 200, outcome: 'allowed' })
    ).res.json<TrtcCredentials>();
    const userSig = decodeSig(body.userSig);
    const key = decodeSig(body.privateMapKey);
    assert.equal(addressOfTrtcUserId(body.userId), provider.address);
    assert.ok(Math.abs(userSig['TLS.expire'] - 7 * MINUTE) <= 2, `expire ${userSig['TLS.expire']}`);
    assert.equal(key['TLS.expire'], userSig['TLS.expire']);
    const buf = decodeUserBuf(key['TLS.userbuf']!);
    assert.equal(buf.privileges, 255, 'the provider opens the room, talks, shows and shares');
    assert.equal(buf.roomId, `custos-${id.replace(/-/g, '')}`);
  });

  test('an audio call carries no video and no screen rights', async () => {
    const id = await schedule(api, provider, patient, { mode: 'audio', startsAt: startsIn(10 * MINUTE) });
    const body = (
      await credentials(api, patient, id, { status: 200, outcome: 'allowed' })
    ).res.json<TrtcCredentials>();
    const buf = decodeUserBuf(decodeSig(body.privateMapKey)['TLS.userbuf']!);
    assert.equal(buf.privileges, P.CREATE_ROOM | P.ENTER_ROOM | P.SEND_AUDIO | P.RECEIVE_AUDIO);
  });

  test('an admitted interpreter: enters, talks and shows, shares no screen, opens no room', async () => {
    const id = await schedule(api, provider, patient);
    assert.equal(
      (
        await api.post(
          `/sessions/${id}/invitations`,
          { participant: interpreter.address, role: 'interpreter' },
          provider.token,
        )
      ).statusCode,
      204,
    );
    await credentials(api, interpreter, id, { status: 403, outcome: 'denied', code: 'not_admitted' });
    await api.post(`/sessions/${id}/admissions`, { participant: interpreter.address }, patient.token);
    const body = (
      await credentials(api, interpreter, id, { status: 200, outcome: 'allowed' })
    ).res.json<TrtcCredentials>();
    const buf = decodeUserBuf(decodeSig(body.privateMapKey)['TLS.userbuf']!);
    assert.equal(
      buf.privileges,
      P.ENTER_ROOM | P.SEND_AUDIO | P.RECEIVE_AUDIO | P.SEND_VIDEO | P.RECEIVE_VIDEO | P.RECEIVE_SCREEN,
    );
    assert.equal(addressOfTrtcUserId(buf.account), interpreter.address);
  });

  test('the HMAC covers the secret, the user id, the room id and the expiry: any change breaks it', async () => {
    const id = await schedule(api, provider, patient);
    const body = (
      await credentials(api, patient, id, { status: 200, outcome: 'allowed' })
    ).res.json<TrtcCredentials>();
    for (const sig of [body.userSig, body.privateMapKey]) {
      const doc = decodeSig(sig);
      assert.notEqual(sigOf(doc, `${SECRET_KEY}x`), doc['TLS.sig'], 'another secret');
      assert.notEqual(
        sigOf({ ...doc, 'TLS.identifier': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA' }, SECRET_KEY),
        doc['TLS.sig'],
      );
      assert.notEqual(sigOf({ ...doc, 'TLS.expire': doc['TLS.expire'] + 3600 }, SECRET_KEY), doc['TLS.sig']);
      assert.notEqual(sigOf({ ...doc, 'TLS.time': doc['TLS.time'] + 3600 }, SECRET_KEY), doc['TLS.sig']);
    }
    // The PrivateMapKey names its room inside the signed userbuf: another room id does not verify.
    const key = decodeSig(body.privateMapKey);
    const other = withRoom(key['TLS.userbuf']!, `custos-${'0'.repeat(32)}`);
    assert.equal(decodeUserBuf(other).roomId, `custos-${'0'.repeat(32)}`);
    assert.equal(sigOf(key, SECRET_KEY), key['TLS.sig'], 'the room it was issued for');
    assert.notEqual(sigOf({ ...key, 'TLS.userbuf': other }, SECRET_KEY), key['TLS.sig'], 'another room');
    // Without the userbuf (a UserSig presented as the key), it does not verify either.
    assert.notEqual(sigOf({ ...key, 'TLS.userbuf': undefined }, SECRET_KEY), key['TLS.sig']);
  });

  test('the consent gate holds in TRTC mode too: revoked, the provider gets no signature', async () => {
    const id = await schedule(api, provider, patient);
    await api.revoke(patient.address, provider.address, 'telehealth');
    const { res } = await credentials(api, provider, id, {
      status: 403,
      outcome: 'denied',
      code: 'no_consent',
    });
    assert.doesNotMatch(res.body, /userSig|privateMapKey/);
  });
});
