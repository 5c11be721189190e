import { Injectable, computed, inject, signal } from '@angular/core';
import { PUBLIC_KEY_BYTES, base64urlByteLength, messagingKeyStatement } from '@custos/domain/messaging';
import { KEY_DERIVATION_MESSAGE, type MessagingKeyPair, deriveKeyPair } from '@custos/e2ee';

import { shortAddress } from '../core/address';
import { toApiError } from '../core/api-client';
import { loadEthers } from '../core/load-ethers';
import { Session } from '../core/session';
import { Wallet, WalletError } from '../core/wallet';
import { MessagingApi, type MessagingKeyView } from './messaging-api';

/** Why a message cannot be encrypted for someone. */
export type MessagingKeyErrorCode = 'missing' | 'unverified';

/** A participant's messaging key is absent or not provably theirs: nothing is encrypted for it. */
export class MessagingKeyError extends Error {
  override readonly name = 'MessagingKeyError';
  constructor(
    readonly code: MessagingKeyErrorCode,
    /** Lower-case address of the participant. */
    readonly account: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where unlocking stands: asking for the derivation signature, then (first time) the binding one. */
export type UnlockStep = 'idle' | 'deriving' | 'registering';

/** How long a checked key of someone else is reused before it is fetched and checked again (ms). */
const VERIFIED_KEY_TTL_MS = 5 * 60_000;

/**
 * The signed-in account's messaging key, and the checked keys of the people it writes to.
 *
 * `unlock()` asks the wallet to sign `KEY_DERIVATION_MESSAGE` and derives the X25519 key pair from that
 * signature (libs/e2ee: the same wallet always gives the same key, so nothing is stored). The first
 * time (or when the API holds another key), the wallet also signs `messagingKeyStatement(address,
 * publicKey)` and the key is registered with `PUT /messaging/keys/me`. The key pair stays in memory for
 * this page and is forgotten when the session ends.
 *
 * `recipientKeys(addresses)` fetches each participant's key and checks its binding signature here
 * (ethers `verifyMessage`): a key the API cannot prove is the participant's own is refused.
 */
@Injectable({ providedIn: 'root' })
export class MessagingKeys {
  private readonly api = inject(MessagingApi);
  private readonly wallet = inject(Wallet);
  private readonly session = inject(Session);
  private readonly pair = signal<{ readonly account: string; readonly keys: MessagingKeyPair } | null>(null);
  private readonly verified = new Map<string, { publicKey: string; checkedAt: number }>();
  private unlocking: Promise<void> | null = null;

  /** The unlock in progress, for the UI. */
  readonly step = signal<UnlockStep>('idle');
  /** True once the signed-in account's key pair is in memory. */
  readonly unlocked = computed(() => {
    const pair = this.pair();
    return pair !== null && pair.account === this.session.address()?.toLowerCase();
  });

  constructor() {
    this.session.onEnd(() => this.forget());
  }

  /** The signed-in account's key pair (lower-case address), or null while locked. */
  keyPair(): { readonly account: string; readonly keys: MessagingKeyPair } | null {
    return this.unlocked() ? this.pair() : null;
  }

  /**
   * Derives the key pair with a wallet signature and makes sure the API holds its public key (one more
   * signature the first time). `passphrase` unlocks the built-in wallet first when it is locked.
   * Rejects with a `WalletError` or an `ApiError` whose message can be shown as is.
   */
  unlock(passphrase?: string): Promise<void> {
    this.unlocking ??= this.runUnlock(passphrase).finally(() => {
      this.unlocking = null;
      this.step.set('idle');
    });
    return this.unlocking;
  }

  /** Forgets the key pair and every checked key (on sign-out). */
  forget(): void {
    this.pair.set(null);
    this.verified.clear();
  }

  /**
   * Every participant's checked public key (lower-case address → base64url key), the signed-in
   * account's own included. Rejects with a `MessagingKeyError` naming the first participant whose key
   * is missing or does not verify (`nameOf` names them in the message), or an `ApiError`.
   */
  async recipientKeys(
    addresses: readonly string[],
    nameOf: (address: string) => string = shortAddress,
  ): Promise<Record<string, string>> {
    const entries = await Promise.all(
      addresses.map(async (address) => {
        const account = address.toLowerCase();
        return [account, await this.recipientKey(account, nameOf)] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  private async recipientKey(account: string, nameOf: (address: string) => string): Promise<string> {
    const own = this.keyPair();
    if (own && own.account === account) return own.keys.publicKey;
    const cached = this.verified.get(account);
    if (cached && Date.now() - cached.checkedAt < VERIFIED_KEY_TTL_MS) return cached.publicKey;
    let view: MessagingKeyView;
    try {
      view = await this.api.key(account);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status === 404) {
        throw new MessagingKeyError(
          'missing',
          account,
          `${nameOf(account)} has not set up private messages yet, so nothing was sent. ` +
            'They need to open Messages in Custos once; then you can write to them.',
        );
      }
      throw apiError;
    }
    if (!(await bindingValid(account, view))) {
      this.verified.delete(account);
      throw new MessagingKeyError(
        'unverified',
        account,
        `The messaging key Custos gave for ${nameOf(account)} is not signed by their account, so ` +
          'nothing was sent: it may not be theirs. Try again later, or contact them another way.',
      );
    }
    this.verified.set(account, { publicKey: view.publicKey, checkedAt: Date.now() });
    return view.publicKey;
  }

  private async runUnlock(passphrase: string | undefined): Promise<void> {
    const address = this.session.address();
    if (!address) throw new WalletError('no-account', 'You are signed out. Sign in again.');
    const account = address.toLowerCase();
    if (this.wallet.locked()) {
      if (!passphrase) throw new WalletError('locked', 'Enter your passphrase to sign.');
      await this.wallet.unlock(passphrase);
    }
    await this.wallet.ensureSigner(address);

    this.step.set('deriving');
    const keys = await deriveKeyPair(await this.wallet.signMessage(KEY_DERIVATION_MESSAGE));

    let registered: MessagingKeyView | null = null;
    try {
      registered = await this.api.key(account);
    } catch (error) {
      if (toApiError(error).status !== 404) throw toApiError(error);
    }
    const current =
      registered !== null &&
      registered.publicKey === keys.publicKey &&
      (await bindingValid(account, registered));
    if (!current) {
      this.step.set('registering');
      const signature = await this.wallet.signMessage(messagingKeyStatement(account, keys.publicKey));
      await this.api.registerKey(keys.publicKey, signature);
    }
    if (this.session.address()?.toLowerCase() !== account) return; // signed out meanwhile
    this.pair.set({ account, keys });
  }
}

/** True when `view` is `account`'s key, signed by `account`'s wallet over the messaging key statement. */
export async function bindingValid(account: string, view: MessagingKeyView): Promise<boolean> {
  if (view.account.toLowerCase() !== account.toLowerCase()) return false;
  if (base64urlByteLength(view.publicKey) !== PUBLIC_KEY_BYTES) return false;
  if (!/^0x[0-9a-fA-F]{130}$/.test(view.signature)) return false;
  try {
    const { verifyMessage } = await loadEthers();
    const signer = verifyMessage(messagingKeyStatement(account, view.publicKey), view.signature);
    return signer.toLowerCase() === account.toLowerCase();
  } catch {
    return false;
  }
}
