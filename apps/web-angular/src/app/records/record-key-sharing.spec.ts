import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { utf8 } from '@custos/e2ee';

import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { MessagingKeys } from '../messaging/messaging-keys';
import { type MessagingIdentity, messagingIdentity } from '../testing/messaging-fakes';
import { type SealedTestRecord, keyFor, sealedRecord, unwrapFor } from '../testing/record-fakes';
import { TEST_MNEMONIC, byTestId, nextRequest, signInForTest, until } from '../testing/test-helpers';
import { KeySharingStatus } from './key-sharing-status';
import type { WrappedRecordKey } from './records-api';

const PASSPHRASE = 'a long passphrase';

describe('Record key sharing (patient side)', () => {
  let http: HttpTestingController;
  let fixture: ComponentFixture<KeySharingStatus>;
  let root: HTMLElement;
  let patient: MessagingIdentity;
  let provider: MessagingIdentity;
  let responder: MessagingIdentity;
  let first: SealedTestRecord;
  let second: SealedTestRecord;

  beforeAll(async () => {
    patient = await messagingIdentity(5);
    provider = await messagingIdentity(1);
    responder = await messagingIdentity(2);
    const metadata = { title: 'Lab', mediaType: 'text/plain', format: 'file' } as const;
    first = await sealedRecord(patient.address, utf8.encode('first record'), metadata);
    second = await sealedRecord(patient.address, utf8.encode('second record'), metadata);
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
    await signInForTest([]);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, PASSPHRASE, 5);
  });

  afterEach(() => {
    http.verify();
    root?.remove();
    sessionStorage.clear();
  });

  async function render(): Promise<void> {
    fixture = TestBed.createComponent(KeySharingStatus);
    root = fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    await fixture.whenStable();
  }

  async function unlock(): Promise<void> {
    const unlocking = TestBed.inject(MessagingKeys).unlock();
    (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(patient.view);
    await unlocking;
  }

  it('asks nothing while the encryption key is locked', async () => {
    await render();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(byTestId(root, 'key-sharing-status').textContent).toBe('');
    // afterEach: http.verify() finds no request.
  });

  it('once unlocked, wraps each pending record key for checked readers only and says so', async () => {
    await render();
    await unlock();

    (await nextRequest('GET', '/records/key-requests')).flush({
      items: [
        {
          recordId: first.view.id,
          category: 'lab_results',
          recipient: provider.address,
          publicKey: provider.keys.publicKey,
        },
        // The API offers a key, but the responder's registered key is not signed by the responder.
        {
          recordId: first.view.id,
          category: 'lab_results',
          recipient: responder.address,
          publicKey: responder.keys.publicKey,
        },
        {
          recordId: second.view.id,
          category: 'lab_results',
          recipient: provider.address,
          publicKey: provider.keys.publicKey,
        },
      ],
    });
    (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(provider.view);
    (await nextRequest('GET', `/messaging/keys/${responder.address}`)).flush({
      ...responder.view,
      signature: provider.view.signature,
    });

    for (const record of [first, second]) {
      (await nextRequest('GET', `/records/${record.view.id}/key`)).flush(await keyFor(record, patient));
      const share = await nextRequest('POST', `/records/${record.view.id}/keys`);
      const { keys } = share.request.body as { keys: WrappedRecordKey[] };
      expect(keys.map((k) => k.recipient)).toEqual([provider.address]);
      expect(await unwrapFor(keys[0]!.wrappedKey, provider)).toEqual(record.key);
      share.flush(null, { status: 204, statusText: 'No Content' });
    }
    (await nextRequest('GET', '/directory/providers')).flush({
      items: [{ address: provider.address, name: 'Dr Ada Lee', specialty: 'Cardiology' }],
      nextCursor: null,
    });

    await until(() => byTestId(root, 'key-sharing-status').textContent !== '', 'the status line');
    await fixture.whenStable();
    expect(byTestId(root, 'key-sharing-status').textContent).toBe(
      'Shared 2 record keys with Dr Ada Lee. Not shared with 0x3c44…93bc: their encryption key could not be checked. Custos tries again next time.',
    );
  });

  it('says nothing when no key is waiting', async () => {
    await render();
    await unlock();
    (await nextRequest('GET', '/records/key-requests')).flush({ items: [] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await fixture.whenStable();
    expect(byTestId(root, 'key-sharing-status').textContent).toBe('');
  });
});
