import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { messagingKeyStatement } from '@custos/domain/messaging';
import { HDNodeWallet, verifyMessage } from 'ethers';

import { Session } from '../core/session';
import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { messagingIdentity, type MessagingIdentity } from '../testing/messaging-fakes';
import { PATIENT_ADDRESS, TEST_MNEMONIC, nextRequest, signInForTest } from '../testing/test-helpers';
import { MessagingKeyError, MessagingKeys } from './messaging-keys';

const PASSPHRASE = 'a long passphrase';

describe('MessagingKeys', () => {
  let http: HttpTestingController;
  let patient: MessagingIdentity;
  let provider: MessagingIdentity;

  beforeAll(async () => {
    patient = await messagingIdentity(5);
    provider = await messagingIdentity(1);
  });

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest([], PATIENT_ADDRESS);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, PASSPHRASE, 5);
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  const keys = () => TestBed.inject(MessagingKeys);

  it('derives the key from a wallet signature and registers it with a valid binding signature', async () => {
    expect(keys().unlocked()).toBe(false);
    const unlocking = keys().unlock();

    (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(
      { statusCode: 404, code: 'messaging_key_not_found', message: 'no key' },
      { status: 404, statusText: 'Not Found' },
    );
    const put = await nextRequest('PUT', '/messaging/keys/me');
    const body = put.request.body as { publicKey: string; signature: string };
    expect(put.request.headers.get('Authorization')).toBe('Bearer test-token');
    // The same key as the wallet's derivation gives anywhere (deterministic: nothing stored).
    expect(body.publicKey).toBe(patient.keys.publicKey);
    expect(body.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The signature is the account's own, over the statement the API checks.
    expect(
      verifyMessage(messagingKeyStatement(patient.address, body.publicKey), body.signature).toLowerCase(),
    ).toBe(patient.address);
    put.flush({ ...patient.view, signature: body.signature });
    await unlocking;

    expect(keys().unlocked()).toBe(true);
    expect(keys().keyPair()?.account).toBe(patient.address);
    expect(keys().keyPair()?.keys.publicKey).toBe(patient.keys.publicKey);
  });

  it('does not register again when the API already holds this key, correctly signed', async () => {
    const unlocking = keys().unlock();
    (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(patient.view);
    await unlocking;
    expect(keys().unlocked()).toBe(true);
    http.expectNone('/messaging/keys/me');
  });

  it('forgets the key when the session ends', async () => {
    const unlocking = keys().unlock();
    (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(patient.view);
    await unlocking;
    TestBed.inject(Session).end('signed-out');
    expect(keys().unlocked()).toBe(false);
    expect(keys().keyPair()).toBeNull();
  });

  describe('recipient keys', () => {
    beforeEach(async () => {
      const unlocking = keys().unlock();
      (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(patient.view);
      await unlocking;
    });

    it('gives checked keys, the own one without asking', async () => {
      const found = keys().recipientKeys([PATIENT_ADDRESS, provider.wallet.address]);
      (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(provider.view);
      expect(await found).toEqual({
        [patient.address]: patient.keys.publicKey,
        [provider.address]: provider.keys.publicKey,
      });
    });

    it('refuses a key that is not signed by its account', async () => {
      const impostor = HDNodeWallet.createRandom();
      const forged = await impostor.signMessage(
        messagingKeyStatement(provider.address, patient.keys.publicKey),
      );
      const found = keys().recipientKeys([provider.address], () => 'Dr Ada Lee');
      const failure = found.catch((error: unknown) => error);
      (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush({
        ...provider.view,
        publicKey: patient.keys.publicKey,
        signature: forged,
      });
      const error = await failure;
      expect(error).toBeInstanceOf(MessagingKeyError);
      expect(error).toMatchObject({ code: 'unverified', account: provider.address });
      expect((error as Error).message).toContain('Dr Ada Lee is not signed by their account');
    });

    it('refuses a key registered for another account', async () => {
      const failure = keys()
        .recipientKeys([provider.address])
        .catch((error: unknown) => error);
      (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(patient.view);
      expect(await failure).toMatchObject({ code: 'unverified' });
    });

    it('says plainly when someone has no messaging key yet', async () => {
      const failure = keys()
        .recipientKeys([provider.address], () => 'Dr Ada Lee')
        .catch((error: unknown) => error);
      (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(
        { statusCode: 404, code: 'messaging_key_not_found', message: 'none' },
        { status: 404, statusText: 'Not Found' },
      );
      const error = await failure;
      expect(error).toMatchObject({ code: 'missing' });
      expect((error as Error).message).toContain('Dr Ada Lee has not set up private messages yet');
    });
  });
});
