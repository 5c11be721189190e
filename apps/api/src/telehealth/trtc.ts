import type { ConsultationMode, ConsultationRole } from '@custos/domain';
import { tlsSigApi } from '../tencent/tls-sig-api';

/**
 * The PrivateMapKey privilege bits (`privilegeMap`, one byte): what a user may do in the one room the
 * key names. With the permission key switched on in the TRTC console, a UserSig alone enters no room.
 */
export const TRTC_PRIVILEGE = {
  CREATE_ROOM: 1,
  ENTER_ROOM: 2,
  SEND_AUDIO: 4,
  RECEIVE_AUDIO: 8,
  SEND_VIDEO: 16,
  RECEIVE_VIDEO: 32,
  SEND_SCREEN: 64,
  RECEIVE_SCREEN: 128,
} as const;

const P = TRTC_PRIVILEGE;
const VIDEO_BITS = P.SEND_VIDEO | P.RECEIVE_VIDEO | P.SEND_SCREEN | P.RECEIVE_SCREEN;

/**
 * What each role may do in the room:
 * - the patient and the consultation's provider open the room (whoever comes first creates it), talk,
 *   show their camera and share a screen;
 * - an invited specialist or provider talks, shows their camera and shares a screen (results, images),
 *   but enters only a room that the patient or the provider opened;
 * - an interpreter or a family member talks and shows their camera (sign language needs it), sees
 *   shared screens, but shares none.
 * Everyone receives audio and video. An `audio` consultation carries no video and no screen at all.
 */
export function trtcPrivileges(role: ConsultationRole, mode: ConsultationMode, opensRoom: boolean): number {
  let bits =
    P.ENTER_ROOM | P.SEND_AUDIO | P.RECEIVE_AUDIO | P.SEND_VIDEO | P.RECEIVE_VIDEO | P.RECEIVE_SCREEN;
  if (opensRoom) bits |= P.CREATE_ROOM;
  if (role === 'patient' || role === 'provider' || role === 'specialist') bits |= P.SEND_SCREEN;
  if (mode === 'audio') bits &= ~VIDEO_BITS;
  return bits;
}

/** The string room id of a consultation: `custos-` and the uuid's 32 hex digits (39 of TRTC's 64). */
export function trtcRoomId(sessionId: string): string {
  return `custos-${sessionId.replace(/-/g, '')}`;
}

/**
 * The TRTC user id of a wallet address: its 20 bytes in base64url, 27 characters. TRTC user ids are at
 * most 32 characters of `[A-Za-z0-9_-]`, too short for the 42 of an address; this encoding fits, keeps
 * to those characters and maps back to the address (`addressOfTrtcUserId`), so peers know who is who.
 */
export function trtcUserId(address: string): string {
  return Buffer.from(address.slice(2), 'hex').toString('base64url');
}

export function addressOfTrtcUserId(userId: string): string {
  return `0x${Buffer.from(userId, 'base64url').toString('hex')}`;
}

export interface TrtcGrant {
  userId: string;
  roomId: string;
  privileges: number;
  /** Seconds from now. */
  lifetimeSeconds: number;
}

export interface TrtcSettings {
  sdkAppId: number;
  secretKey: string;
}

export interface SignedTrtc {
  userSig: string;
  privateMapKey: string;
}

/** A UserSig and a PrivateMapKey for one room, both with the same lifetime. */
export function signTrtc(settings: TrtcSettings, grant: TrtcGrant): SignedTrtc {
  const api = tlsSigApi(settings.sdkAppId, settings.secretKey);
  return {
    userSig: api.genUserSig(grant.userId, grant.lifetimeSeconds),
    privateMapKey: api.genPrivateMapKeyWithStringRoomID(
      grant.userId,
      grant.lifetimeSeconds,
      grant.roomId,
      grant.privileges,
    ),
  };
}
