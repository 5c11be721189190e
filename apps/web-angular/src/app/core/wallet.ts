import { Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import type { HDNodeWallet, TransactionRequest, TypedDataDomain, TypedDataField } from 'ethers';

import { sameAddress, shortAddress } from './address';
import { loadEthers } from './load-ethers';
import { Session } from './session';
import { WalletStore, WrongPassphraseError, openSecret, sealSecret } from './wallet-vault';

/** An EIP-1193 provider, as browser wallet extensions (MetaMask, …) inject it at `window.ethereum`. */
export interface Eip1193Provider {
  request(args: { method: string; params?: readonly unknown[] | object }): Promise<unknown>;
}

/**
 * How the wallet finds a browser extension: a function, because extensions may inject
 * `window.ethereum` after the app started. Tests provide their own.
 */
export const INJECTED_PROVIDER = new InjectionToken<() => Eip1193Provider | null>('INJECTED_PROVIDER', {
  providedIn: 'root',
  factory: () => () => (globalThis as { ethereum?: Eip1193Provider }).ethereum ?? null,
});

/** What signs: the wallet built into Custos (kept encrypted in this browser) or a browser extension. */
export type WalletKind = 'builtin' | 'extension';

/** The built-in wallet kept in this browser, as far as can be known without the passphrase. */
export interface StoredAccount {
  readonly address: string;
  readonly createdAt: string;
}

export type WalletErrorCode =
  | 'wrong-passphrase'
  | 'weak-passphrase'
  | 'invalid-phrase'
  | 'locked'
  | 'no-account'
  | 'no-extension'
  | 'rejected'
  | 'wrong-account'
  | 'wrong-network'
  | 'storage'
  | 'failed';

/** A wallet operation that did not happen, with a message for the user (no crypto vocabulary). */
export class WalletError extends Error {
  override readonly name = 'WalletError';
  constructor(
    readonly code: WalletErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Shortest passphrase accepted for the built-in wallet. */
export const MIN_PASSPHRASE_LENGTH = 8;

/** sessionStorage key: which kind of wallet this tab signed in with, to pick it again after a reload. */
export const WALLET_KIND_STORAGE_KEY = 'custos.wallet';

/**
 * The signer behind the signed-in account.
 *
 * Built-in wallet: `create(passphrase)` (returns the 12-word recovery phrase to write down),
 * `importPhrase(phrase, passphrase, accountIndex?)` or `unlock(passphrase)`. The phrase is kept in
 * IndexedDB encrypted (see wallet-vault.ts); once unlocked, the key stays in memory for this page
 * only, so signing needs no further prompt. `revealPhrase(passphrase)` gives the phrase back for a
 * backup.
 *
 * Browser extension (EIP-1193, e.g. MetaMask): `connectExtension()`; each signature is confirmed in
 * the extension's own window.
 *
 * Then `address()`, `signMessage(text)` (EIP-191, for sign-in) and `signTypedData(domain, types,
 * message)` (EIP-712, for consents). ethers is loaded on first use, never in the initial bundle.
 */
@Injectable({ providedIn: 'root' })
export class Wallet {
  private readonly store = inject(WalletStore);
  private readonly injected = inject(INJECTED_PROVIDER);
  private signer: HDNodeWallet | null = null;

  /** The kind of wallet in use in this tab (kept across reloads), or `null` before choosing one. */
  readonly kind = signal<WalletKind | null>(readKind());
  /** EIP-55 address of the signer ready to sign, or `null` (none chosen yet, or built-in and locked). */
  readonly address = signal<string | null>(null);
  /** True when the built-in wallet is in use but locked: signing needs the passphrase first. */
  readonly locked = computed(() => this.kind() === 'builtin' && this.address() === null);
  /** The built-in wallet kept in this browser (after `loadStored()`), or `null`. */
  readonly stored = signal<StoredAccount | null>(null);

  constructor() {
    inject(Session).onEnd(() => {
      this.lock();
      this.kind.set(null);
      writeKind(null);
    });
  }

  /** True when a browser wallet extension is available. */
  hasExtension(): boolean {
    return this.injected() !== null;
  }

  /** Reads which built-in wallet this browser keeps (`stored()` is updated too). */
  async loadStored(): Promise<StoredAccount | null> {
    try {
      const wallet = await this.store.load();
      const account = wallet ? { address: wallet.address, createdAt: wallet.createdAt } : null;
      this.stored.set(account);
      return account;
    } catch {
      this.stored.set(null);
      return null;
    }
  }

  /**
   * Makes a new built-in wallet, keeps it encrypted with `passphrase` (replacing any other kept in
   * this browser) and unlocks it. Returns the 12-word recovery phrase for the user to write down.
   */
  async create(passphrase: string): Promise<{ address: string; phrase: string }> {
    checkPassphrase(passphrase);
    const { Wallet: EthersWallet } = await loadEthers();
    const created = EthersWallet.createRandom();
    const phrase = created.mnemonic!.phrase;
    await this.keep(phrase, 0, created.address, passphrase);
    this.useBuiltin(created);
    return { address: created.address, phrase };
  }

  /**
   * Restores a built-in wallet from its recovery phrase (12 or 24 words), keeps it encrypted with
   * `passphrase` and unlocks it. `accountIndex` picks another account of the same phrase (0 = first).
   */
  async importPhrase(phrase: string, passphrase: string, accountIndex = 0): Promise<{ address: string }> {
    checkPassphrase(passphrase);
    if (!Number.isInteger(accountIndex) || accountIndex < 0 || accountIndex > 1_000_000) {
      throw new WalletError('invalid-phrase', 'The account number must be a whole number from 0.');
    }
    const normalized = normalizePhrase(phrase);
    const ethers = await loadEthers();
    if (!ethers.Mnemonic.isValidMnemonic(normalized)) {
      throw new WalletError(
        'invalid-phrase',
        'Those words are not a valid recovery phrase. Check each word and their order.',
      );
    }
    const restored = ethers.HDNodeWallet.fromPhrase(normalized, undefined, accountPath(accountIndex));
    await this.keep(normalized, accountIndex, restored.address, passphrase);
    this.useBuiltin(restored);
    return { address: restored.address };
  }

  /** Unlocks the built-in wallet kept in this browser. */
  async unlock(passphrase: string): Promise<{ address: string }> {
    const { phrase, wallet } = await this.open(passphrase);
    const ethers = await loadEthers();
    const signer = ethers.HDNodeWallet.fromPhrase(phrase, undefined, accountPath(wallet.accountIndex));
    if (signer.address !== wallet.address) {
      throw new WalletError(
        'storage',
        'The account kept in this browser is damaged. Restore it from its recovery phrase.',
      );
    }
    this.useBuiltin(signer);
    return { address: signer.address };
  }

  /** The recovery phrase of the built-in wallet, after checking the passphrase again. */
  async revealPhrase(passphrase: string): Promise<string> {
    return (await this.open(passphrase)).phrase;
  }

  /** Connects the browser extension (it may ask the user to pick an account). */
  async connectExtension(): Promise<{ address: string }> {
    const provider = this.requireExtension();
    const accounts = await this.request<string[]>(provider, 'eth_requestAccounts');
    const first = accounts[0];
    if (!first) throw new WalletError('no-account', 'Your wallet extension did not share an account.');
    const { getAddress } = await loadEthers();
    this.signer = null;
    this.kind.set('extension');
    this.address.set(getAddress(first));
    writeKind('extension');
    return { address: this.address()! };
  }

  /** Forgets the unlocked key (the built-in wallet must be unlocked again to sign). */
  lock(): void {
    this.signer = null;
    this.address.set(null);
  }

  /** Deletes the built-in wallet kept in this browser (its recovery phrase is the only way back). */
  async forget(): Promise<void> {
    await this.store.clear();
    this.stored.set(null);
    if (this.kind() === 'builtin') this.lock();
  }

  /**
   * Makes sure the signer is `expected` (the signed-in account) before a signature: reconnects the
   * extension after a reload without a prompt when it can. Throws a `WalletError`: `locked` (ask for
   * the passphrase, then `unlock`), `wrong-account`, `no-extension`.
   */
  async ensureSigner(expected: string): Promise<void> {
    if (this.kind() === null) {
      const stored = await this.loadStored();
      const builtinMatches = sameAddress(stored?.address, expected);
      this.kind.set(builtinMatches || !this.hasExtension() ? 'builtin' : 'extension');
    }
    if (this.kind() === 'extension') {
      const provider = this.requireExtension();
      const accounts = await this.request<string[]>(provider, 'eth_accounts');
      if (accounts[0] && sameAddress(accounts[0], expected)) {
        const { getAddress } = await loadEthers();
        this.address.set(getAddress(accounts[0]));
        writeKind('extension');
        return;
      }
      if (!accounts[0]) {
        await this.connectExtension();
        if (sameAddress(this.address(), expected)) return;
      }
      throw new WalletError(
        'wrong-account',
        `Your wallet extension is on another account. Switch it to ${shortAddress(expected)} and try again.`,
      );
    }
    const address = this.address();
    if (!address) throw new WalletError('locked', 'Enter your passphrase to sign.');
    if (!sameAddress(address, expected)) {
      throw new WalletError(
        'wrong-account',
        `This browser's account is ${shortAddress(address)}, not the signed-in ${shortAddress(expected)}. Sign in again.`,
      );
    }
  }

  /** Signs `text` (EIP-191 personal message), e.g. the sign-in message. */
  async signMessage(text: string): Promise<string> {
    if (this.kind() === 'extension') {
      const provider = this.requireExtension();
      const address = this.requireAddress();
      const { hexlify, toUtf8Bytes } = await loadEthers();
      return this.request<string>(provider, 'personal_sign', [hexlify(toUtf8Bytes(text)), address]);
    }
    return this.requireSigner().signMessage(text);
  }

  /** Signs EIP-712 typed data (`types` without `EIP712Domain`), e.g. a consent. */
  async signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    message: object,
  ): Promise<string> {
    const value = message as Record<string, unknown>;
    if (this.kind() === 'extension') {
      const provider = this.requireExtension();
      const address = this.requireAddress();
      if (domain.chainId !== undefined && domain.chainId !== null)
        await this.switchChain(provider, domain.chainId);
      const { TypedDataEncoder } = await loadEthers();
      const payload = TypedDataEncoder.getPayload(domain, types, value);
      return this.request<string>(provider, 'eth_signTypedData_v4', [address, JSON.stringify(payload)]);
    }
    return this.requireSigner().signTypedData(domain, types, value);
  }

  /**
   * Signs a contract transaction with the built-in wallet and returns it serialized, ready for
   * `eth_sendRawTransaction` (every field given: chainId, nonce, gas limit and fees). An extension
   * signs and sends in one step: use `sendTransaction` for it.
   */
  async signTransaction(tx: TransactionRequest): Promise<string> {
    if (this.kind() === 'extension') {
      throw new WalletError('failed', 'Your wallet extension sends transactions itself.');
    }
    return this.requireSigner().signTransaction(tx);
  }

  /**
   * Asks the wallet extension to send a transaction from the connected account
   * (`eth_sendTransaction`, on `chainId`, switching network first if needed); returns its hash.
   */
  async sendTransaction(tx: {
    readonly to: string;
    readonly data: string;
    readonly chainId: number;
    /** Gas limit; the extension estimates it when absent. */
    readonly gas?: bigint;
  }): Promise<string> {
    const provider = this.requireExtension();
    const from = this.requireAddress();
    await this.switchChain(provider, tx.chainId);
    const request = {
      from,
      to: tx.to,
      data: tx.data,
      ...(tx.gas ? { gas: `0x${tx.gas.toString(16)}` } : {}),
    };
    return this.request<string>(provider, 'eth_sendTransaction', [request]);
  }

  private useBuiltin(signer: HDNodeWallet): void {
    this.signer = signer;
    this.kind.set('builtin');
    this.address.set(signer.address);
    this.stored.set({
      address: signer.address,
      createdAt: this.stored()?.createdAt ?? new Date().toISOString(),
    });
    writeKind('builtin');
  }

  private async keep(
    phrase: string,
    accountIndex: number,
    address: string,
    passphrase: string,
  ): Promise<void> {
    const sealed = await sealSecret(phrase, passphrase, address);
    const createdAt = new Date().toISOString();
    try {
      await this.store.save({ address, accountIndex, createdAt, sealed });
    } catch (error) {
      throw new WalletError(
        'storage',
        error instanceof Error ? error.message : 'This browser could not keep your account.',
      );
    }
    this.stored.set({ address, createdAt });
  }

  private async open(passphrase: string) {
    const wallet = await this.store.load().catch(() => null);
    if (!wallet) {
      throw new WalletError('no-account', 'No account is kept in this browser. Create one or restore yours.');
    }
    try {
      return { wallet, phrase: await openSecret(wallet.sealed, passphrase, wallet.address) };
    } catch (error) {
      if (error instanceof WrongPassphraseError) {
        throw new WalletError('wrong-passphrase', 'That passphrase is not right. Try again.');
      }
      throw new WalletError(
        'storage',
        error instanceof Error ? error.message : 'Cannot read the saved account.',
      );
    }
  }

  private requireSigner(): HDNodeWallet {
    if (!this.signer) throw new WalletError('locked', 'Enter your passphrase to sign.');
    return this.signer;
  }

  private requireAddress(): string {
    const address = this.address();
    if (!address) throw new WalletError('no-account', 'Connect your wallet extension first.');
    return address;
  }

  private requireExtension(): Eip1193Provider {
    const provider = this.injected();
    if (!provider) {
      throw new WalletError('no-extension', 'No wallet extension was found in this browser.');
    }
    return provider;
  }

  private async switchChain(provider: Eip1193Provider, chainId: bigint | number | string): Promise<void> {
    const wanted = `0x${BigInt(chainId).toString(16)}`;
    const current = await this.request<string>(provider, 'eth_chainId');
    if (BigInt(current) === BigInt(wanted)) return;
    try {
      await this.request(provider, 'wallet_switchEthereumChain', [{ chainId: wanted }]);
    } catch (error) {
      if (error instanceof WalletError && error.code === 'rejected') throw error;
      throw new WalletError(
        'wrong-network',
        `Your wallet extension is connected to another network. Switch it to the Custos network (chain id ${BigInt(chainId)}) and try again.`,
      );
    }
  }

  private async request<T>(
    provider: Eip1193Provider,
    method: string,
    params?: readonly unknown[],
  ): Promise<T> {
    try {
      return (await provider.request(params ? { method, params } : { method })) as T;
    } catch (error) {
      throw fromProviderError(error);
    }
  }
}

function fromProviderError(error: unknown): WalletError {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === 4001 || code === 'ACTION_REJECTED') {
    return new WalletError('rejected', 'You cancelled in your wallet extension. Nothing was signed.');
  }
  if (code === -32002) {
    return new WalletError(
      'failed',
      'Your wallet extension is already asking you something: open it to answer.',
    );
  }
  if (code === 4100) {
    return new WalletError('no-account', 'Your wallet extension has not allowed Custos to use this account.');
  }
  const text = typeof message === 'string' && message ? message : 'Your wallet extension reported an error.';
  return new WalletError('failed', text);
}

function checkPassphrase(passphrase: string): void {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new WalletError(
      'weak-passphrase',
      `Choose a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters.`,
    );
  }
}

/** Lower-case words separated by single spaces. */
export function normalizePhrase(phrase: string): string {
  return phrase.trim().toLowerCase().split(/\s+/).filter(Boolean).join(' ');
}

function accountPath(index: number): string {
  return `m/44'/60'/0'/0/${index}`;
}

function readKind(): WalletKind | null {
  try {
    const value = globalThis.sessionStorage?.getItem(WALLET_KIND_STORAGE_KEY);
    return value === 'builtin' || value === 'extension' ? value : null;
  } catch {
    return null;
  }
}

function writeKind(kind: WalletKind | null): void {
  try {
    if (kind) globalThis.sessionStorage?.setItem(WALLET_KIND_STORAGE_KEY, kind);
    else globalThis.sessionStorage?.removeItem(WALLET_KIND_STORAGE_KEY);
  } catch {
    // Storage disabled: after a reload the user picks their wallet again.
  }
}
