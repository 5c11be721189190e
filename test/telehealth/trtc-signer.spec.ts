// The TRTC signing thread: what it signs is what signTrtc signs (decoded and checked with the secret
// key), every caller gets its own grant back, and when the thread is gone the signing goes on.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TRTC_PRIVILEGE as P, trtcRoomId, trtcUserId } from '../../apps/api/src/telehealth/trtc';
import { TrtcSigner } from '../../apps/api/src/telehealth/trtc-signer';
import { decodeSig, decodeUserBuf } from './trtc-decode';

const SETTINGS = { sdkAppId: 1400123456, secretKey: 'trtc-signer-secret-0123456789abcdef' };
const grantFor = (i: number) => ({
  userId: trtcUserId(`0x${i.toString(16).padStart(40, '0')}`),
  roomId: trtcRoomId(`00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`),
  privileges: P.ENTER_ROOM | P.SEND_AUDIO | P.RECEIVE_AUDIO,
  lifetimeSeconds: 600 + i,
});

/** Checks both signatures of `grant` with the secret key and returns the PrivateMapKey's userbuf. */
function verify(signed: { userSig: string; privateMapKey: string }, grant: ReturnType<typeof grantFor>) {
  const user = decodeSig(signed.userSig, SETTINGS.secretKey);
  assert.equal(user['TLS.identifier'], grant.userId);
  assert.equal(user['TLS.expire'], grant.lifetimeSeconds);
  const key = decodeSig(signed.privateMapKey, SETTINGS.secretKey);
  const userBuf = decodeUserBuf(key['TLS.userbuf']!);
  assert.equal(userBuf.account, grant.userId);
  assert.equal(userBuf.roomId, grant.roomId);
  assert.equal(userBuf.privileges, grant.privileges);
  assert.equal(userBuf.sdkAppId, SETTINGS.sdkAppId);
}

describe('TrtcSigner', () => {
  const signers: TrtcSigner[] = [];
  const signer = () => {
    const made = new TrtcSigner(SETTINGS);
    signers.push(made);
    return made;
  };
  after(() => Promise.all(signers.map((s) => s.onModuleDestroy())));

  test('signs on its thread: 200 grants at once, each answered with its own user, room and lifetime', async () => {
    const thread = signer();
    const grants = Array.from({ length: 200 }, (_, i) => grantFor(i));
    const signed = await Promise.all(grants.map((grant) => thread.sign(grant)));
    signed.forEach((result, i) => verify(result, grants[i]!));
  });

  test('grants asked for over several turns of the event loop are each answered with their own', async () => {
    const thread = signer();
    const waiting: Promise<{ userSig: string; privateMapKey: string }>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 3; i++) waiting.push(thread.sign(grantFor(turn * 3 + i)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    (await Promise.all(waiting)).forEach((result, i) => verify(result, grantFor(i)));
  });

  test('when the thread ends, what it held and what comes later is signed on the event loop', async () => {
    const thread = signer();
    const waiting = [1, 2, 3].map((i) => thread.sign(grantFor(i)));
    // The thread dies with grants on their way to it.
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const later = thread.sign(grantFor(4));
    const results = await Promise.all([...waiting, later]);
    results.forEach((result, i) => verify(result, grantFor(i + 1)));
  });

  test('closing signs what was still on its way instead of dropping it', async () => {
    const thread = signer();
    const waiting = thread.sign(grantFor(7));
    await thread.onModuleDestroy();
    verify(await waiting, grantFor(7));
    verify(await thread.sign(grantFor(8)), grantFor(8));
  });
});
