import { IsString, Matches, MaxLength } from 'class-validator';

/** Longest Sign-In with Ethereum message accepted (a typical one is about 450 characters). */
export const SIWE_MESSAGE_MAX_LENGTH = 4096;

/** POST /auth/verify */
export class VerifyBody {
  /** The EIP-4361 message exactly as signed. */
  @IsString()
  @MaxLength(SIWE_MESSAGE_MAX_LENGTH)
  message!: string;

  /** The EIP-191 (personal_sign) signature of `message` by the account it names. */
  @IsString()
  @MaxLength(132)
  @Matches(/^0x[0-9a-fA-F]{130}$/, { message: 'signature must be a 0x-prefixed 65-byte hex signature' })
  signature!: string;
}

/** POST /auth/nonce: what the client needs to build the EIP-4361 message. */
export interface NonceResponse {
  nonce: string;
  /** Host (and port) of PUBLIC_URL. */
  domain: string;
  /** PUBLIC_URL. */
  uri: string;
  chainId: number;
  statement: string;
  /** ISO 8601. */
  issuedAt: string;
  /** ISO 8601: when the nonce expires; use it as the message's Expiration Time. */
  expirationTime: string;
}

/** POST /auth/verify */
export interface SessionResponse {
  /** Send as `Authorization: Bearer <token>`. */
  token: string;
  /** ISO 8601. */
  expiresAt: string;
  /** EIP-55 checksummed. */
  address: string;
}

/** GET /auth/me */
export interface MeResponse {
  address: string;
  roles: readonly string[];
}
