import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { verifyMessage } from 'ethers';
import { SiweMessage } from 'siwe';

import { PATIENT_ADDRESS, TEST_MNEMONIC, nextRequest } from '../testing/test-helpers';
import { ApiClient, ApiError } from './api-client';
import { SESSION_STORAGE_KEY, Session } from './session';
import { type NonceResponse, SignIn, siweMessage } from './sign-in';
import { Wallet } from './wallet';
import { MemoryWalletStore, WalletStore } from './wallet-vault';

/** What the API's POST /auth/nonce answers (apps/api/src/auth/sign-in.service.ts). */
const NONCE: NonceResponse = {
  nonce: 'q8Xz3vKp2LmN7rTa',
  domain: '127.0.0.1:3000',
  uri: 'http://127.0.0.1:3000',
  chainId: 31337,
  statement: 'Sign in to Custos to manage access to your health records.',
  issuedAt: '2026-11-25T10:00:00.000Z',
  expirationTime: '2026-11-25T10:05:00.000Z',
};

describe('Sign-In with Ethereum', () => {
  it('writes the EIP-4361 message exactly as the siwe package the API parses it with', () => {
    const text = siweMessage({ ...NONCE, address: PATIENT_ADDRESS });
    const parsed = new SiweMessage(text);
    expect(parsed).toMatchObject({
      domain: NONCE.domain,
      address: PATIENT_ADDRESS,
      statement: NONCE.statement,
      uri: NONCE.uri,
      version: '1',
      chainId: NONCE.chainId,
      nonce: NONCE.nonce,
      issuedAt: NONCE.issuedAt,
      expirationTime: NONCE.expirationTime,
    });
    expect(parsed.scheme).toBeUndefined();
    expect(parsed.prepareMessage()).toBe(text);
  });

  describe('SignIn.signIn()', () => {
    let http: HttpTestingController;

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
      await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, 'a long passphrase', 5);
    });

    afterEach(() => {
      http.verify();
      sessionStorage.clear();
    });

    it('gets a nonce, signs the message, exchanges it for a token and reads the roles', async () => {
      const done = TestBed.inject(SignIn).signIn();

      const nonce = await nextRequest('POST', '/auth/nonce');
      nonce.flush(NONCE);

      const verify = await nextRequest('POST', '/auth/verify');
      const body = verify.request.body as { message: string; signature: string };
      expect(body.message).toBe(siweMessage({ ...NONCE, address: PATIENT_ADDRESS }));
      expect(verifyMessage(body.message, body.signature)).toBe(PATIENT_ADDRESS);
      verify.flush({
        token: 'tok-1',
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        address: PATIENT_ADDRESS,
      });

      const me = await nextRequest('GET', '/auth/me');
      expect(me.request.headers.get('Authorization')).toBe('Bearer tok-1');
      me.flush({ address: PATIENT_ADDRESS, roles: ['provider'] });
      await done;

      const session = TestBed.inject(Session);
      expect(session.signedIn()).toBe(true);
      expect(session.address()).toBe(PATIENT_ADDRESS);
      expect(session.roles()).toEqual(['provider']);
      expect(JSON.parse(sessionStorage.getItem(SESSION_STORAGE_KEY)!).token).toBe('tok-1');

      // Every later API call carries the token.
      const call = TestBed.inject(ApiClient).get('/patients/me/consents');
      const consents = http.expectOne('/patients/me/consents');
      expect(consents.request.headers.get('Authorization')).toBe('Bearer tok-1');
      consents.flush([]);
      await call;
    });

    it('rejects with the API reason when the signature is refused', async () => {
      const done = TestBed.inject(SignIn).signIn();
      (await nextRequest('POST', '/auth/nonce')).flush(NONCE);
      (await nextRequest('POST', '/auth/verify')).flush(
        { statusCode: 401, error: 'Unauthorized', message: 'Sign-in refused: nonce expired.' },
        { status: 401, statusText: 'Unauthorized' },
      );
      await expect(done).rejects.toEqual(new ApiError(401, undefined, 'Sign-in refused: nonce expired.'));
      expect(TestBed.inject(Session).signedIn()).toBe(false);
    });
  });
});
