import { provideHttpClient } from '@angular/common/http';
import {
  HttpTestingController,
  type TestRequest,
  provideHttpClientTesting,
} from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { categoryId } from '@custos/chain/categories';
import { consentDomain, consentTypedData } from '@custos/chain/typed-data';
import { openRecord, openRecordMetadata } from '@custos/e2ee';
import { contentAddress, recordIdOf } from '@custos/records';
import { ZeroHash, verifyTypedData } from 'ethers';

import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { MessagingKeys } from '../messaging/messaging-keys';
import { RELAY_POLL_INTERVAL } from '../patient/consent-signing';
import { type MessagingIdentity, messagingIdentity } from '../testing/messaging-fakes';
import { FakeObjectUrls, bytesOf, keyFor, sealedRecord, unwrapFor } from '../testing/record-fakes';
import {
  CHAIN_ID,
  CONTRACT,
  PATIENT_ADDRESS,
  TEST_MNEMONIC,
  allByTestId,
  byTestId,
  nextRequest,
  signInForTest,
  type,
  until,
} from '../testing/test-helpers';
import { PatientRecordsPage } from './patient-records-page';
import { OBJECT_URLS } from './record-viewer';
import type { RecordView, RegisterRecordBody } from './records-api';

const PASSPHRASE = 'a long passphrase';
const PDF = new TextEncoder().encode('%PDF-1.7 glucose 95 mg/dL, HbA1c 6.1 %');

describe('PatientRecordsPage: saving a record', () => {
  let http: HttpTestingController;
  let fixture: ComponentFixture<PatientRecordsPage>;
  let root: HTMLElement;
  let patient: MessagingIdentity;
  let provider: MessagingIdentity;
  let responder: MessagingIdentity;
  /** `METHOD url` of every request answered, in order. */
  let answered: string[];

  beforeAll(async () => {
    patient = await messagingIdentity(5);
    provider = await messagingIdentity(1);
    responder = await messagingIdentity(2);
  });

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        { provide: RELAY_POLL_INTERVAL, useValue: 0 },
        { provide: OBJECT_URLS, useValue: new FakeObjectUrls() },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    answered = [];
    await signInForTest([]);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, PASSPHRASE, 5);
    const unlocking = TestBed.inject(MessagingKeys).unlock();
    (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(patient.view);
    await unlocking;
  });

  afterEach(() => {
    http.verify();
    root?.remove();
    sessionStorage.clear();
  });

  /** The one request in flight: it must be `method path` and nothing else may be waiting. */
  async function take(method: string, path: string): Promise<TestRequest> {
    const request = await nextRequest(method, path);
    expect(() => http.verify(), `only ${method} ${path} should be in flight`).not.toThrow();
    answered.push(`${method} ${path}`);
    return request;
  }

  async function render(records: RecordView[] = []): Promise<void> {
    fixture = TestBed.createComponent(PatientRecordsPage);
    root = fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    await fixture.whenStable();
    const list = await nextRequest('GET', '/records');
    expect(list.request.params.get('limit')).toBe('50');
    list.flush({ items: records, nextCursor: null });
    (await nextRequest('GET', '/records/key-requests')).flush({ items: [] });
  }

  async function stable(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve));
    await fixture.whenStable();
  }

  function chooseFile(file: File): void {
    const input = byTestId<HTMLInputElement>(root, 'record-file');
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    input.dispatchEvent(new Event('change'));
  }

  function chooseCategory(name: string): void {
    const select = byTestId<HTMLSelectElement>(root, 'record-category');
    select.value = name;
    select.dispatchEvent(new Event('change'));
  }

  const step = () => byTestId(root, 'upload-progress').dataset['step'];

  it('encrypts, checks the CID, uploads, wraps the key for the patient and every reader, signs and follows', async () => {
    await render();
    await until(() => !!root.querySelector('[data-testid="records-empty"]'), 'the empty list');

    chooseFile(new File([PDF], 'blood-test.pdf', { type: 'application/pdf' }));
    await stable();
    expect(byTestId<HTMLInputElement>(root, 'record-title').value).toBe('blood-test');
    type(byTestId(root, 'record-title'), 'Blood test, November');
    chooseCategory('lab_results');
    await stable();
    byTestId(root, 'record-upload').click();

    // 1. Who must be able to read it, and their keys checked against their wallet signatures.
    const recipients = await take('GET', '/records/recipients');
    expect(recipients.request.params.get('category')).toBe('lab_results');
    recipients.flush({
      items: [
        { recipient: provider.address, publicKey: provider.keys.publicKey, role: 'provider' },
        { recipient: responder.address, publicKey: responder.keys.publicKey, role: 'emergency' },
      ],
    });
    (await take('GET', '/directory/providers')).flush({ items: [], nextCursor: null });
    const providerKey = await nextRequest('GET', `/messaging/keys/${provider.address}`);
    const responderKey = await nextRequest('GET', `/messaging/keys/${responder.address}`);
    answered.push('GET /messaging/keys/…', 'GET /messaging/keys/…');
    providerKey.flush(provider.view);
    responderKey.flush(responder.view);

    // 2. Only ciphertext is uploaded, as raw bytes; the server's CID is the one computed here.
    const upload = await take('POST', '/records/blobs');
    const body = upload.request.body as Blob;
    expect(body.type).toBe('application/octet-stream');
    const blob = await bytesOf(body);
    expect(new TextDecoder('latin1').decode(blob)).not.toContain('glucose');
    const cid = await contentAddress(blob);
    await until(() => step() === 'uploading', 'the uploading step');
    upload.flush({ cid, size: blob.length }, { status: 201, statusText: 'Created' });

    // 3. The patient signs RegisterRecord with the nonce of the signing context.
    (await take('GET', '/chain/signing-context')).flush({ chainId: CHAIN_ID, contract: CONTRACT, nonce: 4 });
    const register = await take('POST', '/records');
    const sent = register.request.body as RegisterRecordBody;
    expect(sent).toMatchObject({ cid, category: 'lab_results', supersedes: null });
    expect(sent.deadline).toBeGreaterThan(Date.now() / 1000);
    expect(sent.keys.map((k) => k.recipient).sort()).toEqual(
      [patient.address, provider.address, responder.address].sort(),
    );
    const readers = [patient, provider, responder];
    const keys = await Promise.all(
      readers.map((reader) =>
        unwrapFor(sent.keys.find((k) => k.recipient === reader.address)!.wrappedKey, reader),
      ),
    );
    expect(keys[1]).toEqual(keys[0]);
    expect(keys[2]).toEqual(keys[0]);
    expect(await openRecord(blob, keys[0]!, patient.address)).toEqual(PDF);
    expect(await openRecordMetadata(sent.metadata, keys[0]!, cid)).toEqual({
      title: 'Blood test, November',
      mediaType: 'application/pdf',
      fileName: 'blood-test.pdf',
      format: 'file',
    });
    const typed = consentTypedData('RegisterRecord', consentDomain(CHAIN_ID, CONTRACT), {
      patient: PATIENT_ADDRESS,
      recordId: recordIdOf(cid),
      category: categoryId('lab_results'),
      supersedes: ZeroHash,
      nonce: 4,
      deadline: sent.deadline,
    });
    expect(verifyTypedData(typed.domain, typed.types, typed.message, sent.signature)).toBe(PATIENT_ADDRESS);
    register.flush({ id: recordIdOf(cid), relayId: 'relay-7' }, { status: 202, statusText: 'Accepted' });

    // 4. Followed like a grant, then the list shows it with its decrypted title.
    (await take('GET', '/consents/relays/relay-7')).flush({
      id: 'relay-7',
      kind: 'record',
      status: 'confirmed',
      txHash: '0x' + 'ab'.repeat(32),
      blockNumber: 42,
      reason: null,
    });
    await until(() => step() === 'confirmed', 'the confirmed step');
    const saved: RecordView = {
      id: recordIdOf(cid),
      patient: patient.address,
      cid,
      category: 'lab_results',
      size: blob.length,
      supersedes: null,
      supersededBy: null,
      status: 'registered',
      submittedAt: '2026-11-25T10:00:00.000Z',
      registeredAt: '2026-11-25T10:00:03.000Z',
      metadata: sent.metadata,
    };
    (await take('GET', '/records')).flush({ items: [saved], nextCursor: null });
    const ownKey = sent.keys.find((k) => k.recipient === patient.address)!;
    (await take('GET', `/records/${saved.id}/key`)).flush({ recordId: saved.id, ...ownKey });
    await until(() => allByTestId(root, 'record-row-title').length === 1, 'the saved record');
    await stable();

    expect(answered).toEqual([
      'GET /records/recipients',
      'GET /directory/providers',
      'GET /messaging/keys/…',
      'GET /messaging/keys/…',
      'POST /records/blobs',
      'GET /chain/signing-context',
      'POST /records',
      'GET /consents/relays/relay-7',
      'GET /records',
      `GET /records/${saved.id}/key`,
    ]);
    expect(byTestId(root, 'record-row-title').textContent).toBe('Blood test, November');
    expect(byTestId(root, 'records-notice').textContent).toContain('Blood test, November saved.');
    const open = byTestId(root, 'record-open');
    expect(open.getAttribute('aria-label')).toBe('Open record 1: Blood test, November');
  });

  it('stops when the server stores the blob under another CID: nothing is signed or registered', async () => {
    await render();
    chooseFile(new File([PDF], 'scan.pdf', { type: 'application/pdf' }));
    chooseCategory('imaging');
    await stable();
    byTestId(root, 'record-upload').click();

    (await take('GET', '/records/recipients')).flush({ items: [] });
    const upload = await take('POST', '/records/blobs');
    upload.flush(
      { cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', size: 3 },
      { status: 201, statusText: 'Created' },
    );
    await until(() => step() === 'failed', 'the failure');
    await stable();
    expect(byTestId(root, 'upload-progress-reason').textContent).toContain(
      'another content address than the one computed in your browser',
    );
    // Retry does not sign the unchecked upload: the form starts over.
    byTestId(root, 'upload-progress-retry').click();
    await stable();
    expect(root.querySelector('[data-testid="upload-progress"]')).toBeNull();
  });

  it('amends the latest version: same category, `supersedes` the earlier record in the body and the signature', async () => {
    const earlier = await sealedRecord(
      patient.address,
      new TextEncoder().encode('{"resourceType":"Observation","status":"preliminary"}'),
      { title: 'HbA1c', mediaType: 'application/fhir+json', format: 'fhir' },
    );
    await render([earlier.view]);
    (await nextRequest('GET', `/records/${earlier.view.id}/key`)).flush(await keyFor(earlier, patient));
    await until(() => allByTestId(root, 'record-amend').length === 1, 'the record');
    await stable();
    expect(byTestId(root, 'record-amend').getAttribute('aria-label')).toBe('Amend record 1: HbA1c');
    byTestId(root, 'record-amend').click();
    await stable();

    expect(byTestId<HTMLSelectElement>(root, 'record-category').disabled).toBe(true);
    expect(byTestId<HTMLInputElement>(root, 'record-title').value).toBe('HbA1c');
    byTestId<HTMLInputElement>(root, 'record-format-fhir').click();
    await stable();
    type(byTestId(root, 'record-fhir'), '{"status": "final"}');
    byTestId(root, 'record-upload').click();
    await stable();
    expect(byTestId(root, 'record-form-error').textContent).toContain('no "resourceType"');

    type(byTestId(root, 'record-fhir'), '{"resourceType":"Observation","status":"final"}');
    byTestId(root, 'record-upload').click();
    (await take('GET', '/records/recipients')).flush({ items: [] });
    const upload = await take('POST', '/records/blobs');
    const blob = await bytesOf(upload.request.body);
    const cid = await contentAddress(blob);
    upload.flush({ cid, size: blob.length }, { status: 201, statusText: 'Created' });
    (await take('GET', '/chain/signing-context')).flush({ chainId: CHAIN_ID, contract: CONTRACT, nonce: 5 });
    const register = await take('POST', '/records');
    const sent = register.request.body as RegisterRecordBody;
    expect(sent).toMatchObject({ cid, category: 'lab_results', supersedes: earlier.view.id });
    const key = await unwrapFor(sent.keys[0]!.wrappedKey, patient);
    expect(await openRecordMetadata(sent.metadata, key, cid)).toEqual({
      title: 'HbA1c',
      mediaType: 'application/fhir+json',
      format: 'fhir',
    });
    const typed = consentTypedData('RegisterRecord', consentDomain(CHAIN_ID, CONTRACT), {
      patient: PATIENT_ADDRESS,
      recordId: recordIdOf(cid),
      category: categoryId('lab_results'),
      supersedes: earlier.view.id,
      nonce: 5,
      deadline: sent.deadline,
    });
    expect(verifyTypedData(typed.domain, typed.types, typed.message, sent.signature)).toBe(PATIENT_ADDRESS);
    register.flush({ id: recordIdOf(cid), relayId: 'relay-8' }, { status: 202, statusText: 'Accepted' });
    (await take('GET', '/consents/relays/relay-8')).flush({
      id: 'relay-8',
      kind: 'record',
      status: 'failed',
      txHash: null,
      blockNumber: null,
      reason: 'deadline passed',
    });
    await until(() => step() === 'failed', 'the failure');
    await stable();
    expect(byTestId(root, 'upload-progress-reason').textContent).toBe('Deadline passed.');
  });
});
