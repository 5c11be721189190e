import { createRequire } from 'node:module';

/**
 * Tencent's tls-sig-api-v2, typed: the package ships no types. Its one class, typed here once as a
 * local interface rather than an ambient module declaration, for TRTC (telehealth) and Tencent Chat
 * (messaging) alike. Both products sign with the same scheme, each with its own application's key.
 */
export interface TlsSigApi {
  /** `expire`: lifetime in seconds from now. */
  genUserSig(userId: string, expire: number): string;
  genPrivateMapKeyWithStringRoomID(
    userId: string,
    expire: number,
    roomId: string,
    privileges: number,
  ): string;
}

const load = createRequire(__filename);
const { Api } = load('tls-sig-api-v2') as { Api: new (sdkAppId: number, secretKey: string) => TlsSigApi };

/** A signer for one Tencent application (its SDKAppID and secret key). */
export function tlsSigApi(sdkAppId: number, secretKey: string): TlsSigApi {
  return new Api(sdkAppId, secretKey);
}
