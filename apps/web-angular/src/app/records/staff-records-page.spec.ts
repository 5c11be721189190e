import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { utf8 } from '@custos/e2ee';

import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { MessagingKeys } from '../messaging/messaging-keys';
import { type MessagingIdentity, messagingIdentity } from '../testing/messaging-fakes';
import { FakeObjectUrls, type SealedTestRecord, keyFor, sealedRecord } from '../testing/record-fakes';
import {
  PROVIDER_ADDRESS,
  TEST_MNEMONIC,
  allByTestId,
  byTestId,
  nextRequest,
  signInForTest,
  type,
  until,
} from '../testing/test-helpers';
import { OBJECT_URLS } from './record-viewer';
import { StaffRecordsPage } from './staff-records-page';

const PASSPHRASE = 'a long passphrase';
const OTHER_PATIENT = '0x' + 'ab'.repeat(20);

describe('StaffRecordsPage', () => {
  let http: HttpTestingController;
  let harness: RouterTestingHarness;
  let root: HTMLElement;
  let patient: MessagingIdentity;
  let provider: MessagingIdentity;
  let newer: SealedTestRecord;
  let older: SealedTestRecord;
  let other: SealedTestRecord;

  beforeAll(async () => {
    patient = await messagingIdentity(5);
    provider = await messagingIdentity(1);
    const file = { mediaType: 'application/pdf', format: 'file' } as const;
    newer = await sealedRecord(patient.address, utf8.encode('%PDF new'), { ...file, title: 'Blood test' });
    older = await sealedRecord(patient.address, utf8.encode('%PDF old'), { ...file, title: 'X-ray' });
    other = await sealedRecord(OTHER_PATIENT, utf8.encode('%PDF other'), { ...file, title: 'Allergy list' });
  });

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          {
            path: 'provider/patients/:patient/records',
            component: StaffRecordsPage,
            data: { back: '/provider' },
          },
        ]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        { provide: OBJECT_URLS, useValue: new FakeObjectUrls() },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['provider'], PROVIDER_ADDRESS);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, PASSPHRASE, 1);
  });

  afterEach(() => {
    http.verify();
    root?.remove();
    sessionStorage.clear();
  });

  async function unlockKeys(): Promise<void> {
    const unlocking = TestBed.inject(MessagingKeys).unlock();
    (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(provider.view);
    await unlocking;
  }

  async function navigate(address: string): Promise<void> {
    await harness.navigateByUrl(`/provider/patients/${address}/records`);
    root = harness.fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
  }

  async function settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve));
    await harness.fixture.whenStable();
  }

  /** Answers the one `GET /records` in flight (checking its query), then each record's key. */
  async function answerList(
    records: readonly SealedTestRecord[],
    nextCursor: string | null,
    query: Record<string, string | null>,
  ): Promise<void> {
    const list = await nextRequest('GET', '/records');
    for (const [name, value] of Object.entries(query)) expect(list.request.params.get(name)).toBe(value);
    list.flush({ items: records.map((r) => r.view), nextCursor });
    for (const record of records) {
      (await nextRequest('GET', `/records/${record.view.id}/key`)).flush(await keyFor(record, provider));
    }
  }

  const titles = () => allByTestId(root, 'record-row-title').map((e) => e.textContent?.trim());

  it('asks to unlock the encryption key first (with the passphrase when locked), then lists the records', async () => {
    TestBed.inject(Wallet).lock();
    harness = await RouterTestingHarness.create();
    await navigate(patient.address);
    await settle();

    const unlock = byTestId(root, 'records-unlock');
    expect(unlock.textContent?.trim()).toBe('Sign to unlock your records');
    expect(root.querySelector('h2')?.textContent).toBe('Your records are encrypted');
    unlock.click();
    await settle();
    expect(byTestId(root, 'records-unlock-error').textContent).toContain('Enter your passphrase to sign.');
    expect(document.activeElement).toBe(byTestId(root, 'records-unlock-passphrase'));

    type(byTestId(root, 'records-unlock-passphrase'), PASSPHRASE);
    byTestId(root, 'records-unlock').click();
    (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(
      { statusCode: 404, code: 'messaging_key_not_found', message: 'none' },
      { status: 404, statusText: 'Not Found' },
    );
    const put = await nextRequest('PUT', '/messaging/keys/me');
    await settle();
    expect(byTestId(root, 'records-unlock-status').textContent?.trim()).toBe(
      'First time here: sign once more to confirm this encryption key is yours.',
    );
    put.flush(provider.view);

    await answerList([newer], null, { patient: patient.address, limit: '50', cursor: null });
    await until(() => titles().length === 1, 'the record');
    expect(titles()).toEqual(['Blood test']);
    expect(root.querySelector('[data-testid="records-unlock"]')).toBeNull();
  });

  it('shows older records a page at a time; a failed page says why and keeps the rows', async () => {
    await unlockKeys();
    harness = await RouterTestingHarness.create();
    await navigate(patient.address);
    await answerList([newer], 'page-2', { patient: patient.address, limit: '50' });
    await until(() => titles().length === 1, 'the first page');
    await settle();

    const more = () => byTestId<HTMLButtonElement>(root, 'staff-records-more');
    expect(more().textContent?.trim()).toBe('Show older records');
    more().click();
    const failing = await nextRequest('GET', '/records');
    expect(failing.request.params.get('cursor')).toBe('page-2');
    expect(failing.request.params.get('patient')).toBe(patient.address);
    await settle();
    expect(more().disabled).toBe(true);
    expect(more().textContent?.trim()).toBe('Loading…');
    failing.flush(
      { statusCode: 503, message: 'Try again later' },
      { status: 503, statusText: 'Unavailable' },
    );
    await until(() => !!root.querySelector('.form-error[role="alert"]'), 'the failure');
    expect(root.querySelector('.form-error[role="alert"]')?.textContent).toContain('Try again later');
    expect(titles()).toEqual(['Blood test']);

    await settle();
    more().click();
    await answerList([older], null, { patient: patient.address, cursor: 'page-2', limit: '50' });
    await until(() => titles().length === 2, 'the older page');
    expect(titles()).toEqual(['Blood test', 'X-ray']);
    expect(root.querySelector('[data-testid="staff-records-more"]')).toBeNull();
    expect(root.querySelector('.form-error[role="alert"]')).toBeNull();
  });

  it('shows the history of an amended record, oldest version first, and opens an earlier version', async () => {
    const file = { mediaType: 'application/pdf', format: 'file' } as const;
    const first = await sealedRecord(patient.address, utf8.encode('%PDF v1'), {
      ...file,
      title: 'Thyroid panel',
    });
    const second = await sealedRecord(patient.address, utf8.encode('%PDF v2'), {
      ...file,
      title: 'Thyroid panel, corrected',
    });
    const v1 = { ...first, view: { ...first.view, supersededBy: second.view.id } };
    const v2 = {
      ...second,
      view: { ...second.view, supersedes: first.view.id, submittedAt: '2026-11-21T09:00:00.000Z' },
    };
    await unlockKeys();
    harness = await RouterTestingHarness.create();
    await navigate(patient.address);
    await answerList([v2, v1], null, { patient: patient.address });
    await until(() => titles().length === 2, 'both versions');

    allByTestId(root, 'record-history')[0]!.click();
    (await nextRequest('GET', `/records/${v2.view.id}`)).flush({
      ...v2.view,
      history: [v1.view.id, v2.view.id],
    });
    await until(() => allByTestId(root, 'record-version').length === 2, 'the history');
    const versions = allByTestId(root, 'record-version');
    expect(versions.map((v) => v.dataset['recordId'])).toEqual([v1.view.id, v2.view.id]);
    expect(versions[0]!.textContent).toContain('Version 1: Thyroid panel');
    expect(versions[1]!.textContent).toContain('Version 2 (latest): Thyroid panel, corrected');
    expect(byTestId(versions[0]!, 'record-version-open').getAttribute('aria-label')).toBe(
      'Open version 1: Thyroid panel',
    );

    // The earlier version stays readable: it opens in the viewer.
    // (its key was fetched for its title already)
    byTestId(versions[0]!, 'record-version-open').click();
    (await nextRequest('GET', `/records/${v1.view.id}/blob`)).flush(
      new Blob([v1.blob.slice().buffer as ArrayBuffer]),
    );
    await until(() => !!root.querySelector('[data-testid="record-viewer-pdf"]'), 'the earlier version');
  });

  it('shows the records of the patient now in the link, not a late answer for the previous one', async () => {
    await unlockKeys();
    harness = await RouterTestingHarness.create();
    await navigate(patient.address);
    const first = await nextRequest('GET', '/records');
    await navigate(OTHER_PATIENT);
    await answerList([other], null, { patient: OTHER_PATIENT });
    await until(() => titles().length === 1, 'the other patient’s record');

    first.flush({ items: [], nextCursor: null });
    await settle();
    expect(titles()).toEqual(['Allergy list']);
    expect(root.querySelector('[data-testid="staff-records-empty"]')).toBeNull();
  });
});
