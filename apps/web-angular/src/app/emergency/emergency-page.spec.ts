import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { id } from 'ethers';

import { contractInterface } from '../core/contract-abi';
import { CHAIN_POLL_INTERVAL } from '../core/contract-transactions';
import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { FakeChain } from '../testing/chain-fakes';
import {
  CONTRACT,
  PATIENT_ADDRESS,
  TEST_MNEMONIC,
  byTestId,
  nextRequest,
  signInForTest,
  type,
  until,
} from '../testing/test-helpers';
import { EmergencyPage } from './emergency-page';

/** Development account #3, the demo emergency staff member. */
const STAFF = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const REASON = 'Unconscious patient brought to the ER, allergies unknown';
const EXPIRES_AT = Math.floor(Date.now() / 1000) + 24 * 3600;

describe('EmergencyPage', () => {
  let fixture: ComponentFixture<EmergencyPage>;
  let root: HTMLElement;
  let http: HttpTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        { provide: CHAIN_POLL_INTERVAL, useValue: 0 },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['emergency'], STAFF);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, 'a long passphrase', 3);
    fixture = TestBed.createComponent(EmergencyPage);
    root = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  const step = () => root.querySelector<HTMLElement>('[data-testid="action-progress"]')?.dataset['step'];

  async function submitAndConfirm(patient: string, reason: string): Promise<void> {
    type(byTestId<HTMLInputElement>(root, 'emergency-patient'), patient);
    type(byTestId<HTMLTextAreaElement>(root, 'emergency-reason'), reason);
    byTestId(root, 'emergency-submit').click();
    await until(() => byTestId<HTMLDialogElement>(root, 'emergency-dialog').open, 'the confirmation');
    await fixture.whenStable();
    expect(byTestId(root, 'emergency-dialog').textContent).toContain(reason.trim());
    byTestId(root, 'emergency-dialog-confirm').click();
  }

  it('requires a reason of at least 10 characters', async () => {
    type(byTestId<HTMLInputElement>(root, 'emergency-patient'), PATIENT_ADDRESS);
    type(byTestId<HTMLTextAreaElement>(root, 'emergency-reason'), '   short  ');
    byTestId(root, 'emergency-submit').click();
    await fixture.whenStable();
    expect(byTestId(root, 'emergency-error').textContent).toContain('at least 10 characters');
    expect(byTestId<HTMLDialogElement>(root, 'emergency-dialog').open).toBe(false);
    http.expectNone(() => true);
  });

  it('records the reason, then sends emergencyAccess(patient, reasonHash) and shows when the window ends', async () => {
    const chain = new FakeChain({
      logs: (tx) => [
        {
          address: CONTRACT,
          ...contractInterface.encodeEventLog('EmergencyAccessStarted', [
            PATIENT_ADDRESS,
            tx.from!,
            id(REASON),
            EXPIRES_AT,
          ]),
        },
      ],
    });
    await submitAndConfirm(PATIENT_ADDRESS, `  ${REASON} `);

    const declare = await nextRequest('POST', '/emergency/reasons');
    expect(declare.request.body).toEqual({ patient: PATIENT_ADDRESS, reason: REASON });
    declare.flush({ reasonHash: id(REASON) });

    await chain.until(() => step() === 'confirmed' || step() === 'failed', 'the transaction');
    expect(step()).toBe('confirmed');
    const tx = chain.sent[0]!;
    expect(tx.from).toBe(STAFF);
    const call = contractInterface.parseTransaction({ data: tx.data })!;
    expect(call.name).toBe('emergencyAccess');
    expect(call.args[0]).toBe(PATIENT_ADDRESS);
    expect(call.args[1]).toBe(id(REASON));

    await until(() => !!root.querySelector('[data-testid="emergency-window"]'), 'the window');
    await fixture.whenStable();
    const window = byTestId(root, 'emergency-window');
    expect(window.dataset['expiresAt']).toBe(String(EXPIRES_AT));
    expect(window.textContent).toMatch(/23 hours|1 day/);
  });

  it('sends nothing when the recorded reason’s hash is not the reason written', async () => {
    const chain = new FakeChain();
    await submitAndConfirm(PATIENT_ADDRESS, REASON);
    (await nextRequest('POST', '/emergency/reasons')).flush({ reasonHash: id('another reason') });
    await until(() => step() === 'failed', 'the failure');
    await fixture.whenStable();
    expect(byTestId(root, 'action-progress-reason').textContent).toContain('different reason');
    chain.answerPending();
    expect(chain.sent).toHaveLength(0);
  });

  it('shows the API’s refusal of the reason', async () => {
    await submitAndConfirm(PATIENT_ADDRESS, REASON);
    (await nextRequest('POST', '/emergency/reasons')).flush(
      { statusCode: 403, message: 'emergency role required' },
      { status: 403, statusText: 'Forbidden' },
    );
    await until(() => step() === 'failed', 'the failure');
    await fixture.whenStable();
    expect(byTestId(root, 'action-progress-reason').textContent).toContain('Emergency role required.');
  });
});
