import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { type RecordMetadata, utf8 } from '@custos/e2ee';

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
  until,
} from '../testing/test-helpers';
import { KEY_NOT_SHARED } from './record-keys';
import { CHANGED_AFTER_ENCRYPTION, CONTENT_ADDRESS_MISMATCH } from './record-reader';
import { OBJECT_URLS, RecordViewer } from './record-viewer';
import type { RecordView } from './records-api';
import { StaffRecordsPage } from './staff-records-page';

const PASSPHRASE = 'a long passphrase';

const BUNDLE = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      resource: {
        resourceType: 'Observation',
        code: { text: 'Glucose' },
        valueQuantity: { value: 95, unit: 'mg/dL' },
        referenceRange: [{ low: { value: 70, unit: 'mg/dL' }, high: { value: 99, unit: 'mg/dL' } }],
      },
    },
  ],
};
const FHIR = { title: 'Glucose panel', mediaType: 'application/fhir+json', format: 'fhir' } as const;

describe('Opening a record (provider)', () => {
  let http: HttpTestingController;
  let fixture: ComponentFixture<RecordViewer>;
  let root: HTMLElement;
  let urls: FakeObjectUrls;
  let patient: MessagingIdentity;
  let provider: MessagingIdentity;
  let glucose: SealedTestRecord;

  beforeAll(async () => {
    patient = await messagingIdentity(5);
    provider = await messagingIdentity(1);
    glucose = await sealedRecord(patient.address, utf8.encode(JSON.stringify(BUNDLE)), FHIR);
  });

  beforeEach(async () => {
    urls = new FakeObjectUrls();
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
        { provide: OBJECT_URLS, useValue: urls },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['provider'], PROVIDER_ADDRESS);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, PASSPHRASE, 1);
    const unlocking = TestBed.inject(MessagingKeys).unlock();
    (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(provider.view);
    await unlocking;
  });

  afterEach(() => {
    http.verify();
    root?.remove();
    sessionStorage.clear();
  });

  async function open(record: RecordView): Promise<void> {
    fixture = TestBed.createComponent(RecordViewer);
    fixture.componentRef.setInput('record', record);
    root = fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    await fixture.whenStable();
  }

  async function answer(record: RecordView, blob: Uint8Array, key: object): Promise<void> {
    (await nextRequest('GET', `/records/${record.id}/key`)).flush(key);
    (await nextRequest('GET', `/records/${record.id}/blob`)).flush(
      new Blob([blob.slice().buffer as ArrayBuffer]),
    );
  }

  const viewer = () => byTestId(root, 'record-viewer');

  /** Seals `content` as the patient's file record, opens it and answers its key and blob. */
  async function openFile(content: Uint8Array, metadata: Omit<RecordMetadata, 'format'>): Promise<void> {
    const file = await sealedRecord(patient.address, content, { ...metadata, format: 'file' });
    await open(file.view);
    await answer(file.view, file.blob, await keyFor(file, provider));
    await settled();
  }

  async function settled(): Promise<void> {
    await until(() => viewer().dataset['status'] !== 'loading', 'the record');
    await fixture.whenStable();
  }

  it('checks and decrypts a FHIR record, then shows it readably', async () => {
    await open(glucose.view);
    await answer(glucose.view, glucose.blob, await keyFor(glucose, provider));
    await settled();
    expect(viewer().dataset['status']).toBe('ready');
    expect(byTestId(root, 'record-viewer-title').textContent).toBe('Glucose panel');
    const row = byTestId(root, 'fhir-observation-row');
    expect(row.textContent).toContain('Glucose');
    expect(row.textContent).toContain('95 mg/dL');
    expect(row.textContent).toContain('70–99 mg/dL');
  });

  it('refuses a blob whose content address is not the record’s CID, and shows the integrity error', async () => {
    const other = await sealedRecord(patient.address, utf8.encode('{"resourceType":"Basic"}'), FHIR);
    await open(glucose.view);
    await answer(glucose.view, other.blob, await keyFor(glucose, provider));
    await settled();
    const error = byTestId(root, 'record-viewer-error');
    expect(error.dataset['code']).toBe('integrity');
    expect(error.textContent!.trim()).toBe(CONTENT_ADDRESS_MISMATCH);
    expect(allByTestId(root, 'fhir-section')).toHaveLength(0);
  });

  it('says a record changed after encryption cannot be shown (decryption fails)', async () => {
    // Sealed for another patient: the CID and title check out, the content does not open as this patient's.
    const moved = await sealedRecord(provider.address, utf8.encode(JSON.stringify(BUNDLE)), FHIR);
    const view = { ...moved.view, patient: patient.address };
    await open(view);
    await answer(view, moved.blob, await keyFor(moved, provider));
    await settled();
    const error = byTestId(root, 'record-viewer-error');
    expect(error.dataset['code']).toBe('integrity');
    expect(error.textContent!.trim()).toBe(CHANGED_AFTER_ENCRYPTION);
  });

  it('shows the API’s reason when access is refused (403) or the key is not shared yet (404)', async () => {
    const reason = { statusCode: 403, message: 'You have no active grant for lab results' };
    await open(glucose.view);
    (await nextRequest('GET', `/records/${glucose.view.id}/key`)).flush(reason, {
      status: 403,
      statusText: 'Forbidden',
    });
    (await nextRequest('GET', `/records/${glucose.view.id}/blob`)).flush(
      new Blob([JSON.stringify(reason)], { type: 'application/json' }),
      { status: 403, statusText: 'Forbidden' },
    );
    await settled();
    let error = byTestId(root, 'record-viewer-error');
    expect(error.dataset['code']).toBe('refused');
    expect(error.textContent!.trim()).toBe('You have no active grant for lab results.');
    root.remove();

    await open(glucose.view);
    (await nextRequest('GET', `/records/${glucose.view.id}/key`)).flush(
      { statusCode: 404, code: 'record_key_not_shared' },
      { status: 404, statusText: 'Not Found' },
    );
    (await nextRequest('GET', `/records/${glucose.view.id}/blob`)).flush(
      new Blob([glucose.blob.slice().buffer as ArrayBuffer]),
    );
    await settled();
    error = byTestId(root, 'record-viewer-error');
    expect(error.dataset['code']).toBe('not-shared');
    expect(error.textContent!.trim()).toBe(KEY_NOT_SHARED);
  });

  it('shows a PDF from an object URL typed application/pdf, revoked when the viewer goes away', async () => {
    await openFile(utf8.encode('%PDF-1.7 report'), {
      title: 'Discharge letter',
      mediaType: 'application/pdf',
      fileName: 'discharge.pdf',
    });
    const frame = byTestId<HTMLObjectElement>(root, 'record-viewer-pdf');
    expect(frame.getAttribute('data')).toBe('blob:test/1');
    expect(frame.getAttribute('type')).toBe('application/pdf');
    expect(urls.created.map((c) => c.blob.type)).toEqual(['application/pdf']);
    expect(urls.revoked).toEqual([]);
    fixture.destroy();
    expect(urls.revoked).toEqual(['blob:test/1']);
  });

  it('shows a photo in an image from an object URL of its own type; an SVG is offered as a download only', async () => {
    // A 1×1 PNG: the viewer never looks inside, it types the object URL with the sealed media type.
    const png = Uint8Array.from(
      atob(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
      ),
      (c) => c.charCodeAt(0),
    );
    await openFile(png, {
      title: 'Rash on the left forearm',
      mediaType: 'image/png',
      fileName: 'forearm.png',
    });
    const image = byTestId<HTMLImageElement>(root, 'record-viewer-image');
    expect(image.getAttribute('src')).toBe('blob:test/1');
    expect(image.getAttribute('alt')).toBe('Rash on the left forearm');
    expect(urls.created.map((c) => c.blob.type)).toEqual(['image/png']);
    expect(urls.created[0]!.blob.size).toBe(png.length);
    fixture.destroy();
    expect(urls.revoked).toEqual(['blob:test/1']);

    // SVG can carry script: never rendered here, only downloaded.
    await openFile(utf8.encode('<svg xmlns="http://www.w3.org/2000/svg"/>'), {
      title: 'Wound outline',
      mediaType: 'image/svg+xml',
      fileName: 'outline.svg',
    });
    expect(root.querySelector('[data-testid="record-viewer-image"]')).toBeNull();
    expect(byTestId(root, 'record-viewer-download').textContent).toContain('outline.svg');
    expect(urls.created).toHaveLength(1);
  });

  it('the patient’s records page shows the API’s 403 reason for the list', async () => {
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(`/provider/patients/${patient.address}/records`);
    root = harness.fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    const list = await nextRequest('GET', '/records');
    expect(list.request.params.get('patient')).toBe(patient.address);
    list.flush(
      { statusCode: 403, message: 'No active grant from this patient' },
      { status: 403, statusText: 'Forbidden' },
    );
    await until(() => !!root.querySelector('[data-testid="staff-records-error"]'), 'the refusal');
    expect(byTestId(root, 'staff-records-error').textContent).toContain('No active grant from this patient.');
  });
});
