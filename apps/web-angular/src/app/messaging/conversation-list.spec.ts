import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { fakeLiveSockets, messagingIdentity, type MessagingIdentity } from '../testing/messaging-fakes';
import {
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
import type { ConversationView } from './messaging-api';
import { MessagingKeys } from './messaging-keys';
import { messagingRoutes } from './messaging.routes';

const PASSPHRASE = 'a long passphrase';
const OTHER_PROVIDER = '0x' + '6'.repeat(40);
const DAY = 86_400;
const DIRECTORY = {
  items: [{ address: PROVIDER_ADDRESS.toLowerCase(), name: 'Dr Ada Lee', specialty: 'Cardiology' }],
  nextCursor: null,
};

describe('Messaging: unlocking and the inbox', () => {
  let patient: MessagingIdentity;
  let provider: MessagingIdentity;
  let harness: RouterTestingHarness;
  let root: HTMLElement;

  beforeAll(async () => {
    patient = await messagingIdentity(5);
    provider = await messagingIdentity(1);
  });

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'patient/messages', children: messagingRoutes('patient') },
          { path: 'provider/messages', children: messagingRoutes('provider') },
        ]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        ...fakeLiveSockets().providers,
      ],
    });
  });

  afterEach(() => {
    TestBed.inject(HttpTestingController).verify();
    root?.remove();
    sessionStorage.clear();
  });

  const conversation = (id: string, more: Partial<ConversationView>): ConversationView => ({
    id,
    patient: patient.address,
    providers: [provider.address],
    formerProviders: [],
    startedBy: patient.address,
    startedAt: '2026-11-25T09:00:00.000Z',
    lastMessageAt: '2026-11-25T10:00:00.000Z',
    lastActivityAt: '2026-11-25T10:00:00.000Z',
    messageCount: 2,
    role: 'patient',
    active: true,
    hidden: false,
    unread: 0,
    awaitingAcknowledgment: 0,
    triage: null,
    ...more,
  });

  async function navigate(url: string): Promise<void> {
    harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(url);
    root = harness.fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    (await nextRequest('GET', '/directory/providers')).flush(DIRECTORY);
  }

  async function settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve));
    await harness.fixture.whenStable();
  }

  it('asks to sign first (with the passphrase when locked), registers the key, then lists and starts conversations', async () => {
    await signInForTest([], PATIENT_ADDRESS);
    const wallet = TestBed.inject(Wallet);
    await wallet.importPhrase(TEST_MNEMONIC, PASSPHRASE, 5);
    wallet.lock();
    await navigate('/patient/messages');
    await settle();

    const unlock = byTestId(root, 'unlock-messages');
    expect(unlock.textContent?.trim()).toBe('Sign to unlock your private messages');
    unlock.click();
    await settle();
    expect(byTestId(root, 'unlock-error').textContent).toContain('Enter your passphrase to sign.');
    type(byTestId(root, 'unlock-passphrase'), PASSPHRASE);
    byTestId(root, 'unlock-messages').click();

    (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(
      { statusCode: 404, code: 'messaging_key_not_found', message: 'none' },
      { status: 404, statusText: 'Not Found' },
    );
    const put = await nextRequest('PUT', '/messaging/keys/me');
    expect((put.request.body as { publicKey: string }).publicKey).toBe(patient.keys.publicKey);
    put.flush(patient.view);

    // Unlocked: the inbox and who the patient can write to (an active messaging grant only).
    (await nextRequest('GET', '/conversations')).flush({
      items: [
        conversation('c-1', { unread: 2, providers: [OTHER_PROVIDER] }),
        conversation('c-2', { role: 'provider', patient: provider.address, providers: [patient.address] }),
      ],
      nextCursor: null,
    });
    const future = Math.floor(Date.now() / 1000) + 30 * DAY;
    (await nextRequest('GET', '/patients/me/consents')).flush([
      { provider: provider.address, category: 'messaging', expiresAt: future, status: 'active' },
      { provider: '0x' + '3'.repeat(40), category: 'messaging', expiresAt: future, status: 'revoked' },
      { provider: '0x' + '4'.repeat(40), category: 'lab_results', expiresAt: future, status: 'active' },
    ]);
    await until(() => allByTestId(root, 'conversation-row').length > 0, 'the inbox');
    expect(TestBed.inject(MessagingKeys).unlocked()).toBe(true);

    const rows = allByTestId(root, 'conversation-row');
    expect(rows.map((r) => r.dataset['conversationId'])).toEqual(['c-1']); // the patient's side only
    expect(rows[0]!.textContent).toContain('Provider 0x6666…6666');
    expect(byTestId(rows[0]!, 'unread-badge').textContent).toContain('2');
    expect(root.querySelector('[data-testid="triage-badge"]')).toBeNull();

    const options = Array.from(byTestId<HTMLSelectElement>(root, 'new-conversation-counterpart').options);
    expect(options.map((o) => [o.value, o.textContent?.trim()])).toEqual([
      [provider.address, 'Dr Ada Lee (Cardiology)'],
    ]);

    // Starting one opens it.
    byTestId(root, 'new-conversation-submit').click();
    const start = await nextRequest('POST', '/conversations');
    expect(start.request.body).toEqual({ patient: patient.address, providers: [provider.address] });
    start.flush({ id: 'c-new' });
    (await nextRequest('GET', '/conversations/c-new')).flush(conversation('c-new', { messageCount: 0 }));
    (await nextRequest('GET', '/conversations/c-new/messages')).flush({ items: [], nextCursor: null });
    expect(TestBed.inject(Router).url).toBe('/patient/messages/c-new');
    await until(() => !!root.querySelector('[data-testid="message-input"]'), 'the new conversation');
  });

  it('a provider sees the inbox by triage with priority badges, and is told plainly when a start is refused', async () => {
    await signInForTest(['provider'], PROVIDER_ADDRESS);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, PASSPHRASE, 1);
    const unlocking = TestBed.inject(MessagingKeys).unlock();
    (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(provider.view);
    await unlocking;
    await navigate('/provider/messages');

    const triaged = (priority: 'urgent' | 'high' | 'low', score: number, reasons: string[]) => ({
      role: 'provider' as const,
      startedBy: provider.address,
      triage: { priority, score, reasons },
    });
    (await nextRequest('GET', '/conversations')).flush({
      items: [
        conversation('c-urgent', triaged('urgent', 240, ['flagged urgent by the patient'])),
        conversation('c-high', triaged('high', 65, ['waiting 24 hours for a reply'])),
        conversation('c-low', triaged('low', 10, [])),
      ],
      nextCursor: null,
    });
    const future = Math.floor(Date.now() / 1000) + 30 * DAY;
    const other = '0x' + '5'.repeat(40);
    (await nextRequest('GET', '/providers/me/patients')).flush({
      items: [
        { patient: other, category: 'messaging', expiresAt: future, grantedAt: '2026-11-01T00:00:00.000Z' },
        { patient: other, category: 'imaging', expiresAt: future, grantedAt: '2026-11-01T00:00:00.000Z' },
      ],
      nextCursor: null,
    });
    await until(() => allByTestId(root, 'conversation-row').length === 3, 'the inbox');

    const badges = allByTestId(root, 'triage-badge');
    expect(badges.map((b) => [b.dataset['priority'], b.textContent?.trim()])).toEqual([
      ['urgent', 'Urgent'],
      ['high', 'High priority'],
      ['low', 'Low priority'],
    ]);
    expect(allByTestId(root, 'triage-reasons')[0]!.textContent).toContain('flagged urgent by the patient');
    expect(allByTestId(root, 'conversation-row')[0]!.textContent).toContain('Patient 0x9965…a4dc');

    const select = byTestId<HTMLSelectElement>(root, 'new-conversation-counterpart');
    expect(Array.from(select.options).map((o) => o.value)).toEqual([other]);
    byTestId(root, 'new-conversation-submit').click();
    const start = await nextRequest('POST', '/conversations');
    expect(start.request.body).toEqual({ patient: other, providers: [provider.address] });
    start.flush(
      { statusCode: 403, code: 'messaging_consent_required', message: 'no grant' },
      { status: 403, statusText: 'Forbidden' },
    );
    await until(() => !!root.querySelector('[data-testid="new-conversation-error"]'), 'the refusal');
    expect(byTestId(root, 'new-conversation-error').textContent).toContain(
      'This patient has not given you permission for messaging (or it ended)',
    );
  });
});
