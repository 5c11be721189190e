import { Injectable } from '@angular/core';

/**
 * Encryption at rest of the built-in wallet's recovery phrase, and where it is kept.
 *
 * The phrase is encrypted with AES-256-GCM under a key derived from the passphrase with PBKDF2-SHA256
 * (600,000 iterations, OWASP 2023; random 16-byte salt and 12-byte IV per encryption), all WebCrypto.
 * The account address is bound as additional authenticated data, so a record whose address was
 * edited no longer decrypts. Nothing unencrypted is ever written.
 */

export const PBKDF2_ITERATIONS = 600_000;

/** An encrypted secret as stored: everything needed to decrypt it except the passphrase. */
export interface SealedSecret {
  readonly version: 1;
  readonly kdf: {
    readonly name: 'PBKDF2';
    readonly hash: 'SHA-256';
    readonly iterations: number;
    readonly salt: string;
  };
  readonly cipher: { readonly name: 'AES-GCM'; readonly iv: string };
  /** base64 */
  readonly ciphertext: string;
}

/** The passphrase does not open the secret (or the record was altered). */
export class WrongPassphraseError extends Error {
  override readonly name = 'WrongPassphraseError';
  constructor() {
    super('That passphrase is not right.');
  }
}

/** Encrypts `secret` with `passphrase`; `associatedData` must be given again to decrypt. */
export async function sealSecret(
  secret: string,
  passphrase: string,
  associatedData: string,
  iterations = PBKDF2_ITERATIONS,
): Promise<SealedSecret> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await deriveKey(passphrase, salt, iterations);
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8(associatedData) },
    key,
    utf8(secret),
  );
  return {
    version: 1,
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations, salt: toBase64(salt) },
    cipher: { name: 'AES-GCM', iv: toBase64(iv) },
    ciphertext: toBase64(new Uint8Array(ciphertext)),
  };
}

/** Decrypts a `SealedSecret`; throws `WrongPassphraseError` when the passphrase (or data) is wrong. */
export async function openSecret(
  sealed: SealedSecret,
  passphrase: string,
  associatedData: string,
): Promise<string> {
  if (sealed.version !== 1 || sealed.kdf.name !== 'PBKDF2' || sealed.cipher.name !== 'AES-GCM') {
    throw new Error('This saved account was made by another version of Custos.');
  }
  const key = await deriveKey(passphrase, fromBase64(sealed.kdf.salt), sealed.kdf.iterations);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64(sealed.cipher.iv), additionalData: utf8(associatedData) },
      key,
      fromBase64(sealed.ciphertext),
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new WrongPassphraseError();
  }
}

async function deriveKey(
  passphrase: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', utf8(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new TextEncoder().encode(text));
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The built-in wallet as kept in this browser: its address in clear, its recovery phrase encrypted. */
export interface StoredWallet {
  /** EIP-55 checksummed. */
  readonly address: string;
  /** Which account of the recovery phrase (BIP-44 `m/44'/60'/0'/0/<index>`). */
  readonly accountIndex: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** The recovery phrase, sealed with the passphrase (associated data: the address). */
  readonly sealed: SealedSecret;
}

/**
 * Where the built-in wallet is kept: IndexedDB in the browser (`IndexedDbWalletStore`, the default);
 * tests provide `MemoryWalletStore`. One wallet per browser profile.
 */
@Injectable({ providedIn: 'root', useFactory: () => new IndexedDbWalletStore() })
export abstract class WalletStore {
  abstract load(): Promise<StoredWallet | null>;
  abstract save(wallet: StoredWallet): Promise<void>;
  abstract clear(): Promise<void>;
}

/** Keeps the wallet in memory only (tests). */
export class MemoryWalletStore extends WalletStore {
  private wallet: StoredWallet | null = null;
  load(): Promise<StoredWallet | null> {
    return Promise.resolve(this.wallet);
  }
  save(wallet: StoredWallet): Promise<void> {
    this.wallet = wallet;
    return Promise.resolve();
  }
  clear(): Promise<void> {
    this.wallet = null;
    return Promise.resolve();
  }
}

const DB_NAME = 'custos-wallet';
const DB_STORE = 'wallets';
const DB_KEY = 'default';

/** Keeps the wallet in IndexedDB (database `custos-wallet`, store `wallets`, key `default`). */
export class IndexedDbWalletStore extends WalletStore {
  private db: Promise<IDBDatabase> | null = null;

  async load(): Promise<StoredWallet | null> {
    if (typeof indexedDB === 'undefined') return null;
    const value = await this.run<unknown>('readonly', (store) => store.get(DB_KEY));
    return isStoredWallet(value) ? value : null;
  }

  async save(wallet: StoredWallet): Promise<void> {
    await this.run('readwrite', (store) => store.put(wallet, DB_KEY));
  }

  async clear(): Promise<void> {
    if (typeof indexedDB === 'undefined') return;
    await this.run('readwrite', (store) => store.delete(DB_KEY));
  }

  private open(): Promise<IDBDatabase> {
    if (typeof indexedDB === 'undefined') {
      return Promise.reject(new Error('This browser cannot keep an account (storage is turned off).'));
    }
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('Cannot open the browser storage.'));
      request.onblocked = () => reject(new Error('Close other Custos tabs and try again.'));
    });
    this.db.catch(() => (this.db = null));
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
    const db = await this.open();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction(DB_STORE, mode);
      const request = action(tx.objectStore(DB_STORE));
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = () => reject(tx.error ?? new Error('The browser storage refused the change.'));
      tx.onabort = () => reject(tx.error ?? new Error('The browser storage refused the change.'));
    });
  }
}

function isStoredWallet(value: unknown): value is StoredWallet {
  const v = value as Partial<StoredWallet> | null;
  return (
    !!v &&
    typeof v.address === 'string' &&
    typeof v.accountIndex === 'number' &&
    typeof v.createdAt === 'string' &&
    !!v.sealed &&
    typeof v.sealed.ciphertext === 'string'
  );
}
