import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { verifyMessage } from 'ethers';

import { Session } from '../core/session';
import type { NonceResponse } from '../core/sign-in';
import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { PATIENT_ADDRESS, TEST_MNEMONIC, byTestId, nextRequest, type, until } from '../testing/test-helpers';
import { SignInPage } from './sign-in-page';

@Component({ template: '<h1>Destination</h1>' })
class Destination {}

const NONCE: NonceResponse = {
  nonce: 'a1b2c3d4e5f6g7h8',
  domain: '127.0.0.1:3000',
  uri: 'http://127.0.0.1:3000',
  chainId: 31337,
  statement: 'Sign in to Custos to manage access to your health records.',
  issuedAt: new Date().toISOString(),
  expirationTime: new Date(Date.now() + 300_000).toISOString(),
};

describe('SignInPage', () => {
  let http: HttpTestingController;
  let store: MemoryWalletStore;

  beforeEach(() => {
    store = new MemoryWalletStore();
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'sign-in', component: SignInPage },
          { path: 'patient/access-log', component: Destination },
          { path: 'patient', component: Destination },
        ]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: store },
      ],
    });
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
    attached?.remove();
  });

  let attached: HTMLElement | undefined;

  async function open(url = '/sign-in?returnUrl=%2Fpatient%2Faccess-log') {
    const harness = await RouterTestingHarness.create(url);
    const root = harness.fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    attached = root;
    await until(() => !!root.querySelector('[data-testid="sign-in-create-start"]'), 'the choices');
    return { harness, root };
  }

  /** Answers the SIWE round trip and checks the signature; resolves with the signed message. */
  async function answerSignIn(address: string, roles: string[] = []): Promise<string> {
    (await nextRequest('POST', '/auth/nonce')).flush(NONCE);
    const verify = await nextRequest('POST', '/auth/verify');
    const { message, signature } = verify.request.body as { message: string; signature: string };
    expect(verifyMessage(message, signature)).toBe(address);
    verify.flush({ token: 'tok', expiresAt: new Date(Date.now() + 3600_000).toISOString(), address });
    (await nextRequest('GET', '/auth/me')).flush({ address, roles });
    return message;
  }

  it('creates an account, shows the recovery phrase to write down, signs in and returns', async () => {
    const { root } = await open();
    expect(root.querySelector('[data-testid="sign-in-unlock"]')).toBeNull(); // nothing kept yet

    byTestId(root, 'sign-in-create-start').click();
    await until(() => !!root.querySelector('[data-testid="sign-in-new-passphrase"]'), 'the create form');
    expect(document.activeElement?.textContent).toBe('Create an account');

    type(byTestId(root, 'sign-in-new-passphrase'), 'a long passphrase');
    type(byTestId(root, 'sign-in-new-passphrase-confirm'), 'a different one');
    byTestId(root, 'sign-in-create').click();
    await until(() => !!root.querySelector('[data-testid="sign-in-error"]'), 'the mismatch error');
    expect(byTestId(root, 'sign-in-error').textContent).toContain('The two passphrases are different.');

    type(byTestId(root, 'sign-in-new-passphrase-confirm'), 'a long passphrase');
    byTestId(root, 'sign-in-create').click();
    await until(() => !!root.querySelector('[data-testid="sign-in-recovery-phrase"]'), 'the recovery phrase');
    const words = Array.from(byTestId(root, 'sign-in-recovery-phrase').querySelectorAll('li')).map(
      (li) => li.textContent,
    );
    expect(words).toHaveLength(12);
    expect(await TestBed.inject(Wallet).revealPhrase('a long passphrase')).toBe(words.join(' '));

    const continueButton = byTestId<HTMLButtonElement>(root, 'sign-in-continue');
    expect(continueButton.disabled).toBe(true);
    byTestId<HTMLInputElement>(root, 'sign-in-backup-confirm').click();
    await until(() => !continueButton.disabled, 'Continue to be enabled');
    continueButton.click();

    const address = TestBed.inject(Wallet).address()!;
    await answerSignIn(address);
    await until(() => TestBed.inject(Router).url === '/patient/access-log', 'the return');
    expect(TestBed.inject(Session).address()).toBe(address);
  });

  it('unlocks the account kept in this browser with its passphrase', async () => {
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, 'a long passphrase', 5);
    TestBed.inject(Wallet).lock();
    const { root } = await open('/sign-in');
    await until(() => !!root.querySelector('[data-testid="sign-in-unlock"]'), 'the unlock form');
    expect(byTestId(root, 'sign-in-stored-address').textContent).toContain('0x9965…A4dc');

    type(byTestId(root, 'sign-in-passphrase'), 'wrong wrong wrong');
    byTestId(root, 'sign-in-unlock').click();
    await until(() => !!root.querySelector('[data-testid="sign-in-error"]'), 'the error');
    expect(byTestId(root, 'sign-in-error').textContent).toBe('That passphrase is not right. Try again.');

    type(byTestId(root, 'sign-in-passphrase'), 'a long passphrase');
    byTestId(root, 'sign-in-unlock').click();
    await answerSignIn(PATIENT_ADDRESS, []);
    await until(() => TestBed.inject(Router).url === '/patient', 'the patient area');
  });

  it('restores an account from its recovery phrase and account number', async () => {
    const { root } = await open();
    byTestId(root, 'sign-in-import-start').click();
    await until(() => !!root.querySelector('[data-testid="sign-in-import-phrase"]'), 'the restore form');
    type(byTestId(root, 'sign-in-import-phrase'), TEST_MNEMONIC);
    type(byTestId(root, 'sign-in-import-passphrase'), 'a long passphrase');
    type(byTestId(root, 'sign-in-import-passphrase-confirm'), 'a long passphrase');
    type(byTestId(root, 'sign-in-import-account'), '5');
    byTestId(root, 'sign-in-import').click();
    await answerSignIn(PATIENT_ADDRESS);
    await until(() => TestBed.inject(Router).url === '/patient/access-log', 'the return');
  });

  it('never follows a returnUrl that leaves the app', async () => {
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, 'a long passphrase', 5);
    const { root } = await open('/sign-in?returnUrl=%2F%2Fevil.example%2Fphish');
    type(byTestId(root, 'sign-in-passphrase'), 'a long passphrase');
    byTestId(root, 'sign-in-unlock').click();
    await answerSignIn(PATIENT_ADDRESS);
    await until(() => TestBed.inject(Router).url === '/patient', 'the default landing');
  });

  it('says why when the session ended on its own', async () => {
    const { root } = await open('/sign-in?reason=expired');
    expect(byTestId(root, 'sign-in-expired').textContent).toContain('Your session ended.');
  });
});
