import { Injectable, inject } from '@angular/core';

import { ApiClient } from './api-client';
import { type SessionGrant, Session } from './session';
import { Wallet, WalletError } from './wallet';

/** `POST /auth/nonce`: a one-time nonce and the fields of the message to sign. */
export interface NonceResponse {
  readonly nonce: string;
  /** Host (and port) of the API's PUBLIC_URL. */
  readonly domain: string;
  /** The API's PUBLIC_URL. */
  readonly uri: string;
  readonly chainId: number;
  readonly statement: string;
  /** ISO 8601. */
  readonly issuedAt: string;
  /** ISO 8601: when the nonce expires; the message's Expiration Time. */
  readonly expirationTime: string;
}

/** The fields of a Sign-In with Ethereum message, as the API hands them out plus the address. */
export interface SiweFields extends NonceResponse {
  /** EIP-55 checksummed (the API's parser refuses other spellings). */
  readonly address: string;
}

/**
 * The EIP-4361 message text, exactly as the `siwe` package (which the API parses with) writes it:
 * no scheme in the header, version 1, the nonce's expiry as Expiration Time.
 */
export function siweMessage(fields: SiweFields): string {
  return [
    `${fields.domain} wants you to sign in with your Ethereum account:`,
    fields.address,
    '',
    fields.statement,
    '',
    `URI: ${fields.uri}`,
    'Version: 1',
    `Chain ID: ${fields.chainId}`,
    `Nonce: ${fields.nonce}`,
    `Issued At: ${fields.issuedAt}`,
    `Expiration Time: ${fields.expirationTime}`,
  ].join('\n');
}

/**
 * Sign-In with Ethereum with the wallet's current signer: `POST /auth/nonce` → EIP-4361 message →
 * the wallet signs it → `POST /auth/verify` → the session starts (token kept, roles read).
 *
 * ```ts
 * await wallet.unlock(passphrase);   // or create / importPhrase / connectExtension
 * await signIn.signIn();             // rejects with an ApiError or a WalletError
 * ```
 */
@Injectable({ providedIn: 'root' })
export class SignIn {
  private readonly api = inject(ApiClient);
  private readonly wallet = inject(Wallet);
  private readonly session = inject(Session);

  async signIn(): Promise<void> {
    const address = this.wallet.address();
    if (!address) throw new WalletError('locked', 'Unlock or connect your account first.');
    const fields = await this.api.post<NonceResponse>('/auth/nonce');
    const message = siweMessage({ ...fields, address });
    const signature = await this.wallet.signMessage(message);
    const grant = await this.api.post<SessionGrant>('/auth/verify', { message, signature });
    await this.session.start(grant);
  }
}
