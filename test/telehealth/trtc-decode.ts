// Decoding Tencent TRTC credentials as Tencent does, independently of tls-sig-api-v2: a UserSig or a
// PrivateMapKey is zlib-deflated JSON in the library's base64 variant (`+/=` written `*-_`), signed with
// HMAC-SHA256 under the secret key over the documented fields; a PrivateMapKey's `TLS.userbuf` holds
// the room, the privileges and the expiry, big-endian.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { inflateSync } from 'node:zlib';

export interface SigDoc {
  'TLS.ver': string;
  'TLS.identifier': string;
  'TLS.sdkappid': number;
  /** Unix seconds: when it was signed. */
  'TLS.time': number;
  /** Seconds after `TLS.time`. */
  'TLS.expire': number;
  'TLS.userbuf'?: string;
  'TLS.sig': string;
}

/** The HMAC-SHA256 (base64) of a document's signed fields under `secretKey`. */
export function sigOf(doc: Omit<SigDoc, 'TLS.sig' | 'TLS.ver'>, secretKey: string): string {
  let signed =
    `TLS.identifier:${doc['TLS.identifier']}\nTLS.sdkappid:${doc['TLS.sdkappid']}\n` +
    `TLS.time:${doc['TLS.time']}\nTLS.expire:${doc['TLS.expire']}\n`;
  if (doc['TLS.userbuf'] !== undefined) signed += `TLS.userbuf:${doc['TLS.userbuf']}\n`;
  return createHmac('sha256', secretKey).update(signed).digest('base64');
}

/** Decodes a UserSig or a PrivateMapKey and checks its HMAC with `secretKey`. */
export function decodeSig(sig: string, secretKey: string): SigDoc {
  const base64 = sig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  const doc = JSON.parse(inflateSync(Buffer.from(base64, 'base64')).toString('utf8')) as SigDoc;
  assert.equal(doc['TLS.sig'], sigOf(doc, secretKey), 'HMAC-SHA256 with the secret key');
  return doc;
}

export interface UserBuf {
  version: number;
  account: string;
  sdkAppId: number;
  authId: number;
  /** Unix seconds. */
  expiresAt: number;
  privileges: number;
  accountType: number;
  roomId: string;
}

/** The PrivateMapKey's userbuf: big-endian fields, the string room id last (version 1). */
export function decodeUserBuf(base64: string): UserBuf {
  const buf = Buffer.from(base64, 'base64');
  let offset = 0;
  const version = buf.readUInt8(offset++);
  const accountLength = buf.readUInt16BE(offset);
  offset += 2;
  const account = buf.subarray(offset, offset + accountLength).toString('latin1');
  offset += accountLength;
  const [sdkAppId, authId, expiresAt, privileges, accountType] = [0, 1, 2, 3, 4].map((i) =>
    buf.readUInt32BE(offset + i * 4),
  ) as [number, number, number, number, number];
  offset += 20;
  const roomLength = buf.readUInt16BE(offset);
  offset += 2;
  const roomId = buf.subarray(offset, offset + roomLength).toString('latin1');
  assert.equal(offset + roomLength, buf.length, 'nothing after the room id');
  return { version, account, sdkAppId, authId, expiresAt, privileges, accountType, roomId };
}

/** A userbuf with `roomId` in place of its room (same layout), base64: to show the HMAC covers it. */
export function withRoom(base64: string, roomId: string): string {
  const buf = Buffer.from(base64, 'base64');
  const accountLength = buf.readUInt16BE(1);
  const roomAt = 1 + 2 + accountLength + 20;
  const room = Buffer.from(roomId, 'latin1');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(room.length);
  return Buffer.concat([buf.subarray(0, roomAt), length, room]).toString('base64');
}
