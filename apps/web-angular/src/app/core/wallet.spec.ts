import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { TypedDataEncoder, verifyMessage, verifyTypedData } from 'ethers';

import { PATIENT_ADDRESS, TEST_MNEMONIC } from '../testing/test-helpers';
import { type Eip1193Provider, INJECTED_PROVIDER, Wallet, WalletError } from './wallet';
import { MemoryWalletStore, WalletStore } from './wallet-vault';

describe('Wallet', () => {
  let store: MemoryWalletStore;
  let extension: Eip1193Provider | null;

  beforeEach(() => {
    store = new MemoryWalletStore();
    extension = null;
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: store },
        { provide: INJECTED_PROVIDER, useValue: () => extension },
      ],
    });
  });

  afterEach(() => sessionStorage.clear());

  const wallet = () => TestBed.inject(Wallet);

  describe('built-in', () => {
    it('creates an account with a 12-word phrase and keeps it encrypted, never in clear', async () => {
      const { address, phrase } = await wallet().create('a long passphrase');
      expect(phrase.split(' ')).toHaveLength(12);
      expect(wallet().address()).toBe(address);
      expect(wallet().kind()).toBe('builtin');
      const kept = await store.load();
      expect(kept?.address).toBe(address);
      expect(JSON.stringify(kept)).not.toContain(phrase.split(' ')[0] + ' ' + phrase.split(' ')[1]);
    });

    it('unlocks with the right passphrase after locking (round trip) and refuses a wrong one', async () => {
      const { address } = await wallet().create('a long passphrase');
      wallet().lock();
      expect(wallet().address()).toBeNull();
      expect(wallet().locked()).toBe(true);

      await expect(wallet().unlock('not the passphrase')).rejects.toMatchObject({
        code: 'wrong-passphrase',
        message: 'That passphrase is not right. Try again.',
      });
      expect(wallet().address()).toBeNull();

      expect(await wallet().unlock('a long passphrase')).toEqual({ address });
      expect(wallet().address()).toBe(address);
    });

    it('restores an account from its recovery phrase, any account number', async () => {
      const { address } = await wallet().importPhrase(
        `  ${TEST_MNEMONIC.toUpperCase()}  `,
        'a long passphrase',
        5,
      );
      expect(address).toBe(PATIENT_ADDRESS);
      wallet().lock();
      expect((await wallet().unlock('a long passphrase')).address).toBe(PATIENT_ADDRESS);
    });

    it('gives the recovery phrase back only with the passphrase', async () => {
      await wallet().importPhrase(TEST_MNEMONIC, 'a long passphrase', 5);
      await expect(wallet().revealPhrase('guess guess')).rejects.toMatchObject({ code: 'wrong-passphrase' });
      expect(await wallet().revealPhrase('a long passphrase')).toBe(TEST_MNEMONIC);
    });

    it('refuses a short passphrase and words that are not a recovery phrase', async () => {
      await expect(wallet().create('short')).rejects.toMatchObject({ code: 'weak-passphrase' });
      await expect(
        wallet().importPhrase('these are not twelve valid recovery words at all ok', 'a long passphrase'),
      ).rejects.toMatchObject({ code: 'invalid-phrase' });
      expect(await store.load()).toBeNull();
    });

    it('signs messages and typed data as its address', async () => {
      await wallet().importPhrase(TEST_MNEMONIC, 'a long passphrase', 5);
      const signature = await wallet().signMessage('hello');
      expect(verifyMessage('hello', signature)).toBe(PATIENT_ADDRESS);

      const domain = { name: 'Test', version: '1', chainId: 31337 };
      const types = { Note: [{ name: 'text', type: 'string' }] };
      const typed = await wallet().signTypedData(domain, types, { text: 'hi' });
      expect(verifyTypedData(domain, types, { text: 'hi' }, typed)).toBe(PATIENT_ADDRESS);
    });

    it('asks for the passphrase (locked) before signing after a reload', async () => {
      await wallet().importPhrase(TEST_MNEMONIC, 'a long passphrase', 5);
      wallet().lock();
      await expect(wallet().ensureSigner(PATIENT_ADDRESS)).rejects.toMatchObject({ code: 'locked' });
      await expect(wallet().signMessage('x')).rejects.toBeInstanceOf(WalletError);
    });
  });

  describe('browser extension (EIP-1193)', () => {
    const calls: { method: string; params?: unknown }[] = [];
    const account = PATIENT_ADDRESS.toLowerCase();

    beforeEach(() => {
      calls.length = 0;
      extension = {
        request: async ({ method, params }) => {
          calls.push({ method, params });
          switch (method) {
            case 'eth_requestAccounts':
            case 'eth_accounts':
              return [account];
            case 'eth_chainId':
              return '0x7a69';
            case 'personal_sign':
              return '0xsigned-message';
            case 'eth_signTypedData_v4':
              return '0xsigned-typed-data';
            default:
              throw { code: 4200, message: `unsupported ${method}` };
          }
        },
      };
    });

    it('connects and signs through the extension', async () => {
      expect(wallet().hasExtension()).toBe(true);
      expect(await wallet().connectExtension()).toEqual({ address: PATIENT_ADDRESS });
      expect(await wallet().signMessage('hi')).toBe('0xsigned-message');
      expect(calls.at(-1)).toEqual({ method: 'personal_sign', params: ['0x6869', PATIENT_ADDRESS] });

      const domain = { name: 'Test', version: '1', chainId: 31337 };
      const types = { Note: [{ name: 'text', type: 'string' }] };
      expect(await wallet().signTypedData(domain, types, { text: 'hi' })).toBe('0xsigned-typed-data');
      const last = calls.at(-1)!;
      expect(last.method).toBe('eth_signTypedData_v4');
      const [signer, json] = last.params as [string, string];
      expect(signer).toBe(PATIENT_ADDRESS);
      expect(JSON.parse(json)).toEqual(
        JSON.parse(JSON.stringify(TypedDataEncoder.getPayload(domain, types, { text: 'hi' }))),
      );
    });

    it('says so in plain words when the user cancels in the extension', async () => {
      extension = { request: () => Promise.reject({ code: 4001, message: 'User rejected the request.' }) };
      await expect(wallet().connectExtension()).rejects.toMatchObject({
        code: 'rejected',
        message: 'You cancelled in your wallet extension. Nothing was signed.',
      });
    });

    it('refuses to sign as another account than the signed-in one', async () => {
      await wallet().connectExtension();
      await expect(wallet().ensureSigner('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')).rejects.toMatchObject(
        {
          code: 'wrong-account',
        },
      );
    });
  });
});
