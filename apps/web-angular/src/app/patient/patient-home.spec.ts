import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { categoryId } from '@custos/chain/categories';
import { consentDomain, consentTypedData } from '@custos/chain/typed-data';
import { verifyTypedData } from 'ethers';

import { SAVE_FILE } from '../compliance/file-download';
import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import {
  CHAIN_ID,
  CONTRACT,
  PATIENT_ADDRESS,
  PROVIDER_ADDRESS,
  TEST_MNEMONIC,
  allByTestId,
  byTestId,
  nextRequest,
  signInForTest,
  type,
  until,
} from '../testing/test-helpers';
import { RecordKeySharing } from '../records/record-key-sharing';
import { RELAY_POLL_INTERVAL } from './consent-signing';
import type { ConsentGrant, ConsentRequest, SignedGrantBody, SignedRevokeBody } from './patient-api';
import { PatientHome } from './patient-home';

const PROVIDER = PROVIDER_ADDRESS.toLowerCase();
const DAY = 86_400;
const PASSPHRASE = 'a long passphrase';

const REQUEST: ConsentRequest = {
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  patient: PATIENT_ADDRESS.toLowerCase(),
  provider: PROVIDER,
  category: 'lab_results',
  purpose: 'Follow-up on your blood test',
  durationSeconds: 30 * DAY,
  requestedAt: '2026-11-20T09:00:00.000Z',
  status: 'pending',
};

const grantOf = (status: ConsentGrant['status'] = 'active'): ConsentGrant => ({
  provider: PROVIDER,
  providerName: null,
  providerSpecialty: null,
  category: 'lab_results',
  // Half an hour past "3 days 1 hour": the text stays the same however slowly the test runs.
  expiresAt: Math.floor(Date.now() / 1000) + 3 * DAY + 3600 + 1800,
  status,
  grantedAt: '2026-11-20T10:00:00.000Z',
  revokedAt: null,
});

const DIRECTORY = {
  items: [{ address: PROVIDER, name: 'Dr Ada Lee', specialty: 'Cardiology' }],
  nextCursor: null,
};

describe('PatientHome', () => {
  let fixture: ComponentFixture<PatientHome>;
  let root: HTMLElement;
  let http: HttpTestingController;
  let saved: { blob: Blob; filename: string }[];

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        { provide: RELAY_POLL_INTERVAL, useValue: 0 },
        { provide: SAVE_FILE, useValue: (blob: Blob, filename: string) => saved.push({ blob, filename }) },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    saved = [];
    await signInForTest([]);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, PASSPHRASE, 5);
  });

  afterEach(() => {
    http.verify();
    root?.remove();
    sessionStorage.clear();
  });

  /** Renders the page and answers its three reads. */
  async function render(requests: ConsentRequest[], grants: ConsentGrant[]): Promise<void> {
    fixture = TestBed.createComponent(PatientHome);
    root = fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    await fixture.whenStable();
    expect(byTestId(root, 'patient-home-loading').textContent).toContain('Loading');
    (await nextRequest('GET', '/directory/providers')).flush(DIRECTORY);
    await answerReads(requests, grants);
  }

  async function answerReads(requests: ConsentRequest[], grants: ConsentGrant[]): Promise<void> {
    const pending = await nextRequest('GET', '/consent-requests');
    expect(pending.request.params.get('status')).toBe('pending');
    pending.flush({ items: requests, nextCursor: null });
    (await nextRequest('GET', '/patients/me/consents')).flush(grants);
    await until(() => !root.querySelector('[data-testid="patient-home-loading"]'), 'the page to load');
    await fixture.whenStable();
  }

  async function stable(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve));
    await fixture.whenStable();
  }

  const step = () => byTestId(root, 'action-progress').dataset['step'];

  async function answerSigningContext(nonce: number): Promise<void> {
    const context = await nextRequest('GET', '/chain/signing-context');
    expect(context.request.headers.get('Authorization')).toBe('Bearer test-token');
    context.flush({ chainId: CHAIN_ID, contract: CONTRACT, nonce });
  }

  it('shows real empty states when nothing is waiting and nobody has access', async () => {
    await render([], []);
    expect(byTestId(root, 'requests-empty').textContent).toContain('No requests are waiting for you.');
    expect(byTestId(root, 'grants-empty').textContent).toContain('Nobody can see your records right now.');
    expect(root.querySelector('[data-testid="request-list"]')).toBeNull();
  });

  it('shows an error with the reason and loads again on Try again', async () => {
    fixture = TestBed.createComponent(PatientHome);
    root = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    (await nextRequest('GET', '/directory/providers')).flush(DIRECTORY);
    (await nextRequest('GET', '/consent-requests')).flush({ items: [], nextCursor: null });
    (await nextRequest('GET', '/patients/me/consents')).flush(
      { statusCode: 503, message: 'read models unavailable' },
      { status: 503, statusText: 'Service Unavailable' },
    );
    await until(() => !!root.querySelector('[data-testid="patient-home-error"]'), 'the error state');
    expect(byTestId(root, 'patient-home-error').textContent).toContain(
      'Custos had a problem (error 503). Read models unavailable. Try again in a moment.',
    );

    byTestId(root, 'patient-home-error-retry').click();
    await answerReads([REQUEST], []);
    expect(allByTestId(root, 'request-row')).toHaveLength(1);
  });

  it('lists a request with the provider name, what, why and how long', async () => {
    await render([REQUEST], []);
    const row = byTestId(root, 'request-row');
    expect(row.dataset['requestId']).toBe(REQUEST.id);
    expect(row.textContent).toContain('Dr Ada Lee');
    expect(row.textContent).toContain('Cardiology');
    expect(byTestId(row, 'request-category').textContent).toBe('lab results');
    expect(byTestId(row, 'request-duration').textContent).toBe('30 days');
    expect(byTestId(row, 'request-purpose').textContent).toBe('Follow-up on your blood test');
  });

  it('allows a request in two clicks: a signed EIP-712 Grant relayed and followed to confirmation', async () => {
    await render([REQUEST], []);
    const row = byTestId(root, 'request-row');

    // Click 1: "Allow" explains what the provider will see and until when.
    byTestId(row, 'request-allow').click();
    await stable();
    const summary = byTestId(row, 'allow-summary').textContent!.replace(/\s+/g, ' ');
    expect(summary).toContain('Dr Ada Lee will be able to see your lab results until');
    expect(summary).toContain('(30 days from now)');
    expect(document.activeElement?.textContent?.trim()).toBe('Before you allow');
    expect(row.querySelector('[data-testid="allow-passphrase"]')).toBeNull(); // unlocked: no prompt

    // Click 2: "Sign and allow".
    const sharing = vi.spyOn(TestBed.inject(RecordKeySharing), 'sharePending');
    const before = Math.floor(Date.now() / 1000);
    byTestId(row, 'request-sign-allow').click();
    await answerSigningContext(7);

    const post = await nextRequest('POST', '/consents/grants');
    const body = post.request.body as SignedGrantBody;
    expect(body).toMatchObject({ patient: PATIENT_ADDRESS, provider: PROVIDER, category: 'lab_results' });
    expect(body.expiresAt).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(body.expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 30 * DAY);
    expect(body.deadline).toBeGreaterThan(Math.floor(Date.now() / 1000));
    const typed = consentTypedData('Grant', consentDomain(CHAIN_ID, CONTRACT), {
      patient: PATIENT_ADDRESS,
      provider: PROVIDER,
      category: categoryId('lab_results'),
      expiresAt: body.expiresAt,
      nonce: 7,
      deadline: body.deadline,
    });
    expect(verifyTypedData(typed.domain, typed.types, typed.message, body.signature)).toBe(PATIENT_ADDRESS);
    await stable();
    expect(step()).toBe('signed');
    expect(byTestId(row, 'action-progress-state').textContent?.trim()).toBe('Signed. Sending…');

    post.flush({ id: 'relay-1', status: 'submitted' }, { status: 202, statusText: 'Accepted' });
    const first = await nextRequest('GET', '/consents/relays/relay-1');
    await stable();
    expect(step()).toBe('sent');
    expect(byTestId(row, 'action-progress-state').textContent?.trim()).toBe(
      'Sent. Waiting for confirmation…',
    );
    first.flush({
      id: 'relay-1',
      kind: 'grant',
      status: 'mined',
      txHash: '0xabc',
      blockNumber: 12,
      reason: null,
    });

    (await nextRequest('GET', '/consents/relays/relay-1')).flush({
      id: 'relay-1',
      kind: 'grant',
      status: 'confirmed',
      txHash: '0xabc',
      blockNumber: 12,
      reason: null,
    });
    await until(() => step() === 'confirmed', 'confirmation');
    expect(byTestId(row, 'action-progress-state').textContent?.trim()).toBe('Access given.');

    // The page reloads: the request is answered, the provider now has access.
    await answerReads([], [{ ...grantOf(), expiresAt: body.expiresAt }]);
    await until(() => !root.querySelector('[data-testid="request-row"]'), 'the answered request to go');
    await until(() => !!byTestId(root, 'patient-notice').textContent, 'the notice');
    // The new reader's record keys are shared now, not at the next unlock (locked here: nothing sent).
    expect(sharing).toHaveBeenCalledTimes(1);
    expect(allByTestId(root, 'grant-row')).toHaveLength(1);
    expect(byTestId(root, 'patient-notice').textContent).toBe(
      'Access given: Dr Ada Lee can now see your lab results.',
    );
    expect(document.activeElement?.id).toBe('grants-heading');
  });

  it('asks for the passphrase in the panel when the account is locked (after a reload)', async () => {
    TestBed.inject(Wallet).lock();
    await render([REQUEST], []);
    const row = byTestId(root, 'request-row');
    byTestId(row, 'request-allow').click();
    await stable();
    const passphrase = byTestId<HTMLInputElement>(row, 'allow-passphrase');
    expect(document.activeElement).toBe(passphrase);
    expect(root.querySelector(`label[for="${passphrase.id}"]`)?.textContent).toContain('Your passphrase');

    type(passphrase, 'not it at all');
    byTestId(row, 'request-sign-allow').click();
    await until(() => !!row.querySelector('[data-testid="allow-error"]'), 'the passphrase error');
    expect(byTestId(row, 'allow-error').textContent).toBe('That passphrase is not right. Try again.');

    type(byTestId<HTMLInputElement>(row, 'allow-passphrase'), PASSPHRASE);
    byTestId(row, 'request-sign-allow').click();
    await answerSigningContext(0);
    const post = await nextRequest('POST', '/consents/grants');
    post.flush(
      { statusCode: 400, code: 'signature_expired', message: 'deadline passed' },
      { status: 400, statusText: 'Bad Request' },
    );
    await until(() => step() === 'failed', 'the failure');
    expect(byTestId(row, 'action-progress-reason').textContent).toBe('Deadline passed.');
  });

  it('shows a relay failure with its reason and retries with a new signature', async () => {
    await render([REQUEST], []);
    const row = byTestId(root, 'request-row');
    byTestId(row, 'request-allow').click();
    await stable();
    byTestId(row, 'request-sign-allow').click();
    await answerSigningContext(3);
    (await nextRequest('POST', '/consents/grants')).flush({ id: 'relay-2', status: 'submitted' });
    (await nextRequest('GET', '/consents/relays/relay-2')).flush({
      id: 'relay-2',
      kind: 'grant',
      status: 'failed',
      txHash: null,
      blockNumber: null,
      reason: 'nonce already used',
    });
    await until(() => step() === 'failed', 'the failure');
    expect(byTestId(row, 'action-progress-state').textContent?.trim()).toBe('It did not go through.');
    expect(byTestId(row, 'action-progress-reason').textContent).toBe('Nonce already used.');
    expect(row.querySelectorAll('.progress__step.is-done')).toHaveLength(2); // signed, sent

    byTestId(row, 'action-progress-retry').click();
    await answerSigningContext(4);
    const again = await nextRequest('POST', '/consents/grants');
    again.flush(
      { statusCode: 503, message: 'no contract configured' },
      { status: 503, statusText: 'Service Unavailable' },
    );
    await until(() => step() === 'failed', 'the second failure');
  });

  it('declines a request', async () => {
    await render([REQUEST], []);
    byTestId(root, 'request-decline').click();
    const decline = await nextRequest('POST', `/consent-requests/${REQUEST.id}/decline`);
    decline.flush(null, { status: 204, statusText: 'No Content' });
    await until(() => !root.querySelector('[data-testid="request-row"]'), 'the row to go');
    expect(byTestId(root, 'patient-notice').textContent).toContain("You declined Dr Ada Lee's request.");
    expect(byTestId(root, 'requests-empty')).toBeTruthy();
    expect(document.activeElement?.id).toBe('requests-heading');
  });

  it('lists active grants with name, category in plain words and time left; past ones apart', async () => {
    await render(
      [],
      [grantOf(), { ...grantOf('revoked'), category: 'imaging', revokedAt: '2026-11-21T10:00:00.000Z' }],
    );
    const row = byTestId(root, 'grant-row');
    expect(row.textContent).toContain('Dr Ada Lee');
    expect(byTestId(row, 'grant-category').textContent).toBe('lab results');
    expect(byTestId(row, 'grant-time-left').textContent).toBe('3 days 1 hour left');
    expect(byTestId(row, 'grant-provider-address').textContent).toContain('0x7099…79c8');
    expect(allByTestId(root, 'past-grant-row')).toHaveLength(1);
    expect(byTestId(root, 'past-grant-row').textContent).toContain('imaging');
  });

  it('revokes only after confirmation, with a signed EIP-712 Revoke', async () => {
    await render([], [grantOf()]);
    const row = byTestId(root, 'grant-row');
    const dialog = row.querySelector('dialog')!;

    // Cancelling changes nothing.
    byTestId(row, 'grant-revoke').click();
    await stable();
    expect(dialog.open).toBe(true);
    expect(dialog.textContent).toContain('Dr Ada Lee will no longer be able to see your lab results');
    byTestId(row, 'revoke-dialog-cancel').click();
    await stable();
    expect(dialog.open).toBe(false);
    expect(http.match(() => true)).toEqual([]);

    // Confirming signs and relays.
    byTestId(row, 'grant-revoke').click();
    await stable();
    byTestId(row, 'revoke-dialog-confirm').click();
    await answerSigningContext(9);
    const post = await nextRequest('POST', '/consents/revocations');
    const body = post.request.body as SignedRevokeBody;
    expect(body).toMatchObject({ patient: PATIENT_ADDRESS, provider: PROVIDER, category: 'lab_results' });
    const typed = consentTypedData('Revoke', consentDomain(CHAIN_ID, CONTRACT), {
      patient: PATIENT_ADDRESS,
      provider: PROVIDER,
      category: categoryId('lab_results'),
      nonce: 9,
      deadline: body.deadline,
    });
    expect(verifyTypedData(typed.domain, typed.types, typed.message, body.signature)).toBe(PATIENT_ADDRESS);
    post.flush({ id: 'relay-3', status: 'submitted' });
    (await nextRequest('GET', '/consents/relays/relay-3')).flush({
      id: 'relay-3',
      kind: 'revoke',
      status: 'confirmed',
      txHash: '0xdef',
      blockNumber: 20,
      reason: null,
    });
    await until(() => step() === 'confirmed', 'confirmation');
    expect(byTestId(row, 'action-progress-state').textContent?.trim()).toBe('Access taken back.');

    await answerReads([], [grantOf('revoked')]);
    await until(() => !root.querySelector('[data-testid="grant-row"]'), 'the revoked grant to go');
    await until(() => !!byTestId(root, 'patient-notice').textContent, 'the notice');
    expect(byTestId(root, 'grants-empty')).toBeTruthy();
    expect(byTestId(root, 'patient-notice').textContent).toBe(
      'Access taken back: Dr Ada Lee can no longer see your lab results.',
    );
  });

  it('exports my consents as a FHIR Bundle file', async () => {
    await render([], []);
    byTestId(root, 'consents-export').click();
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [] };
    (await nextRequest('GET', '/consents/fhir')).flush(
      new Blob([JSON.stringify(bundle)], { type: 'application/fhir+json' }),
    );
    await until(() => saved.length === 1, 'the download');
    expect(saved[0]!.filename).toMatch(/^custos-consents-\d{8}-\d{6}\.fhir\.json$/);
    expect(saved[0]!.blob.type).toBe('application/fhir+json');
    await until(() => !!byTestId(root, 'patient-notice').textContent, 'the notice');
    expect(byTestId(root, 'patient-notice').textContent).toBe('Your consents were exported as a FHIR file.');
  });
});
