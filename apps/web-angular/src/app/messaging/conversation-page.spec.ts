import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { messagingKeyStatement } from '@custos/domain/messaging';
import { open, seal, utf8 } from '@custos/e2ee';
import { HDNodeWallet } from 'ethers';

import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import {
  type FakeLiveSocket,
  fakeLiveSockets,
  messagingIdentity,
  type MessagingIdentity,
} from '../testing/messaging-fakes';
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
import { REFUSAL_FOR_PROVIDER } from './conversation-page';
import type { ConversationView, MessageView, SendMessageBody } from './messaging-api';
import { MessagingKeys } from './messaging-keys';
import { messagingRoutes } from './messaging.routes';

const CONVERSATION = '3f2c1a9e-5b7d-4c1e-9a2b-8d6f0e4c3b21';
const PASSPHRASE = 'a long passphrase';
const DIRECTORY = {
  items: [{ address: PROVIDER_ADDRESS.toLowerCase(), name: 'Dr Ada Lee', specialty: 'Cardiology' }],
  nextCursor: null,
};

/** The additional data every envelope is bound with (independent of the app's helper). */
const aad = (messageId: string) => utf8.encode(`custos-message|${CONVERSATION}|${messageId}`);

describe('Messaging: a conversation', () => {
  let http: HttpTestingController;
  let sockets: FakeLiveSocket[];
  let patient: MessagingIdentity;
  let provider: MessagingIdentity;
  let harness: RouterTestingHarness;
  let root: HTMLElement;

  beforeAll(async () => {
    patient = await messagingIdentity(5);
    provider = await messagingIdentity(1);
  });

  beforeEach(() => {
    const fakes = fakeLiveSockets();
    sockets = fakes.sockets;
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'patient/messages', children: messagingRoutes('patient') },
          { path: 'provider/messages', children: messagingRoutes('provider') },
        ]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        ...fakes.providers,
      ],
    });
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => {
    root?.remove();
    sessionStorage.clear();
  });

  /** Signs in as `who`, unlocks the built-in wallet and the messaging key (already registered). */
  async function signInAs(who: MessagingIdentity): Promise<void> {
    const asProvider = who === provider;
    await signInForTest(asProvider ? ['provider'] : [], asProvider ? PROVIDER_ADDRESS : PATIENT_ADDRESS);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, PASSPHRASE, asProvider ? 1 : 5);
    const unlocking = TestBed.inject(MessagingKeys).unlock();
    (await nextRequest('GET', `/messaging/keys/${who.address}`)).flush(who.view);
    await unlocking;
  }

  const conversationAs = (
    role: 'patient' | 'provider',
    more: Partial<ConversationView> = {},
  ): ConversationView => ({
    id: CONVERSATION,
    patient: patient.address,
    providers: [provider.address],
    formerProviders: [],
    startedBy: patient.address,
    startedAt: '2026-11-25T09:00:00.000Z',
    lastMessageAt: null,
    lastActivityAt: '2026-11-25T09:00:00.000Z',
    messageCount: 0,
    role,
    active: true,
    hidden: false,
    unread: 0,
    awaitingAcknowledgment: 0,
    triage: role === 'provider' ? { priority: 'normal', score: 40, reasons: ['patient message'] } : null,
    ...more,
  });

  /** A message `from` encrypted to both participants, as `reader` receives it. */
  async function envelope(
    from: MessagingIdentity,
    reader: MessagingIdentity,
    text: string,
    position: number,
    more: Partial<MessageView> = {},
  ): Promise<MessageView> {
    const messageId = crypto.randomUUID();
    const sealed = await seal(
      utf8.encode(text),
      { [patient.address]: patient.keys.publicKey, [provider.address]: provider.keys.publicKey },
      aad(messageId),
    );
    return {
      conversationId: CONVERSATION,
      messageId,
      position,
      sender: from.address,
      senderRole: from === provider ? 'provider' : 'patient',
      kind: 'text',
      urgent: false,
      requiresAcknowledgment: false,
      ciphertext: sealed.ciphertext,
      iv: sealed.iv,
      wrappedKey: sealed.wrappedKeys[reader.address]!,
      attachment: null,
      sentAt: '2026-11-25T10:00:00.000Z',
      acknowledgedBy: [],
      readBy: [],
      ...more,
    };
  }

  /** Opens the conversation page and answers its reads. */
  async function openConversation(
    area: 'patient' | 'provider',
    history: MessageView[],
    nextCursor: string | null = null,
    view: Partial<ConversationView> = {},
  ): Promise<void> {
    harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(`/${area}/messages/${CONVERSATION}`);
    root = harness.fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    (await nextRequest('GET', '/directory/providers')).flush(DIRECTORY);
    (await nextRequest('GET', `/conversations/${CONVERSATION}`)).flush(conversationAs(area, view));
    const page = await nextRequest('GET', `/conversations/${CONVERSATION}/messages`);
    expect(page.request.params.get('order')).toBe('desc');
    page.flush({ items: [...history].reverse(), nextCursor });
    await until(() => !!root.querySelector('[data-testid="conversation-title"]'), 'the conversation');
    await settle();
  }

  async function settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve));
    await harness.fixture.whenStable();
  }

  /** Answers the read receipts the page sends for what others wrote. */
  function answerReadReceipts(): string[] {
    const reads = http.match((r) => r.method === 'POST' && r.url.endsWith('/read'));
    for (const read of reads) read.flush(null, { status: 204, statusText: 'No Content' });
    return reads.map((r) => r.request.url.split('/').at(-2)!);
  }

  const texts = () => allByTestId(root, 'message-text').map((e) => e.textContent?.trim());

  it('a patient sends: the POST carries only ciphertext, and the provider can decrypt it', async () => {
    await signInAs(patient);
    await openConversation('patient', []);
    expect(byTestId(root, 'conversation-title').textContent).toContain('Conversation with Dr Ada Lee');
    expect(byTestId(root, 'messages-empty').textContent).toContain('No messages yet');

    const text = 'My blood pressure was 150/95 this morning';
    type(byTestId(root, 'message-input'), text);
    byTestId<HTMLInputElement>(root, 'message-urgent').click();
    byTestId(root, 'send-button').click();

    // The provider's key is fetched and checked before anything is encrypted for it.
    (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush(provider.view);
    const post = await nextRequest('POST', `/conversations/${CONVERSATION}/messages`);
    const body = post.request.body as SendMessageBody;
    const wire = JSON.stringify(body);
    for (const word of ['blood', 'pressure', '150/95', 'morning']) expect(wire).not.toContain(word);
    expect(body).toMatchObject({ kind: 'text', urgent: true, requiresAcknowledgment: false });
    expect(body.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.iv).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(Object.keys(body.wrappedKeys).sort()).toEqual([patient.address, provider.address].sort());
    // Wrapped keys fit the API's limit (512 bytes): libs/e2ee's are 92 bytes.
    for (const wrapped of Object.values(body.wrappedKeys)) expect(wrapped).toHaveLength(123);

    // The counterpart decrypts with their own key; so does the sender (it is wrapped for them too).
    for (const reader of [provider, patient]) {
      const plain = await open(body, reader.address, reader.keys, aad(body.messageId));
      expect(utf8.decode(plain)).toBe(text);
    }
    // Bound to its place: the same envelope under another message id does not open.
    await expect(open(body, provider.address, provider.keys, aad(crypto.randomUUID()))).rejects.toThrow();

    post.flush({
      conversationId: CONVERSATION,
      messageId: body.messageId,
      position: 9,
      sentAt: '2026-11-25T10:05:00.000Z',
    });
    await until(() => texts().length === 1, 'the sent message');
    expect(texts()).toEqual([text]);
    expect(byTestId(root, 'message-urgent-tag').textContent).toContain('Urgent');
    expect(byTestId(root, 'read-receipt').textContent).toContain('Sent');
    expect(byTestId<HTMLTextAreaElement>(root, 'message-input').value).toBe('');

    // The provider's read receipt arrives live and shows on the message.
    const socket = sockets[0]!;
    socket.open();
    socket.deliver({
      type: 'read',
      position: 10,
      conversationId: CONVERSATION,
      messageId: body.messageId,
      by: provider.address,
      at: '2026-11-25T10:06:00.000Z',
    });
    await until(
      () => /Read by Dr Ada Lee/.test(byTestId(root, 'read-receipt').textContent ?? ''),
      'the receipt',
    );
    http.verify();
  });

  it('a provider reads the history and live messages decrypted, each message once', async () => {
    await signInAs(provider);
    const first = await envelope(patient, provider, 'Hello doctor', 3);
    await openConversation('provider', [first]);
    expect(texts()).toEqual(['Hello doctor']);
    expect(answerReadReceipts()).toEqual([first.messageId]);

    // The socket opens after the history: it resumes after what is shown.
    const socket = sockets[0]!;
    expect(socket.protocols).toEqual(['custos', 'custos-token.test-token']);
    socket.open();
    expect(socket.sent).toEqual([{ type: 'resume', after: 3 }]);

    const second = await envelope(patient, provider, 'The pain is worse today', 5);
    socket.deliver({ type: 'message', ...first }); // replayed: already shown
    socket.deliver({ type: 'message', ...second });
    socket.deliver({ type: 'message', ...second }); // at least once: a duplicate
    await until(() => texts().length === 2, 'the live message');
    await settle();
    socket.deliver({ type: 'message', ...second });
    await settle();
    expect(texts()).toEqual(['Hello doctor', 'The pain is worse today']);
    expect(allByTestId(root, 'message-bubble')).toHaveLength(2);
    expect(answerReadReceipts()).toEqual([second.messageId]);
    http.verify();
  });

  it('when the API refuses for want of the patient’s grant, says so plainly and keeps the history', async () => {
    await signInAs(provider);
    await openConversation('provider', [await envelope(patient, provider, 'Are my results in?', 2)]);
    answerReadReceipts();

    type(byTestId(root, 'message-input'), 'Yes, they look fine.');
    byTestId(root, 'send-button').click();
    (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(patient.view);
    (await nextRequest('POST', `/conversations/${CONVERSATION}/messages`)).flush(
      {
        statusCode: 403,
        code: 'messaging_consent_required',
        message: 'the patient has no active messaging grant to every provider of this conversation',
      },
      { status: 403, statusText: 'Forbidden' },
    );
    await until(() => !!root.querySelector('[data-testid="send-refusal"]'), 'the refusal');
    expect(byTestId(root, 'send-refusal').textContent?.trim()).toBe(REFUSAL_FOR_PROVIDER);
    expect(root.querySelector('[data-testid="message-input"]')).toBeNull();
    expect(texts()).toEqual(['Are my results in?']);
    http.verify();
  });

  it('refuses to encrypt for a key that is not signed by its account, and sends nothing', async () => {
    await signInAs(patient);
    await openConversation('patient', []);
    type(byTestId(root, 'message-input'), 'Hello');
    byTestId(root, 'send-button').click();
    const forged = await HDNodeWallet.createRandom().signMessage(
      messagingKeyStatement(provider.address, provider.keys.publicKey),
    );
    (await nextRequest('GET', `/messaging/keys/${provider.address}`)).flush({
      ...provider.view,
      signature: forged,
    });
    await until(() => !!root.querySelector('[data-testid="send-error"]'), 'the error');
    expect(byTestId(root, 'send-error').textContent).toContain(
      'The messaging key Custos gave for Dr Ada Lee is not signed by their account, so nothing was sent',
    );
    http.expectNone(`/conversations/${CONVERSATION}/messages`);
    expect(byTestId<HTMLTextAreaElement>(root, 'message-input').value).toBe('Hello'); // the draft stays
  });

  it('a provider sends a structured lab result asking for acknowledgment; it reads back as labelled lines', async () => {
    await signInAs(provider);
    await openConversation('provider', []);
    const kind = byTestId<HTMLSelectElement>(root, 'message-kind');
    kind.value = 'lab_result';
    kind.dispatchEvent(new Event('change'));
    await settle();
    expect(byTestId<HTMLInputElement>(root, 'message-requires-ack').checked).toBe(true);
    byTestId(root, 'send-button').click();
    await settle();
    expect(byTestId(root, 'send-error').textContent).toContain('Fill in: Test, Result.');

    type(byTestId(root, 'field-test'), 'HbA1c');
    type(byTestId(root, 'field-result'), '6.1');
    type(byTestId(root, 'field-unit'), '%');
    byTestId(root, 'send-button').click();
    (await nextRequest('GET', `/messaging/keys/${patient.address}`)).flush(patient.view);
    const post = await nextRequest('POST', `/conversations/${CONVERSATION}/messages`);
    const body = post.request.body as SendMessageBody;
    expect(body).toMatchObject({ kind: 'lab_result', requiresAcknowledgment: true, urgent: false });
    expect(JSON.stringify(body)).not.toContain('HbA1c');
    const content = JSON.parse(
      utf8.decode(await open(body, patient.address, patient.keys, aad(body.messageId))),
    );
    expect(content).toEqual({
      format: 'custos-medical/1',
      kind: 'lab_result',
      fields: { test: 'HbA1c', result: '6.1', unit: '%' },
    });

    post.flush({
      conversationId: CONVERSATION,
      messageId: body.messageId,
      position: 4,
      sentAt: '2026-11-25T11:00:00.000Z',
    });
    await until(() => !!root.querySelector('[data-testid="message-structured"]'), 'the structured message');
    const lines = Array.from(byTestId(root, 'message-structured').querySelectorAll('dt, dd')).map((e) =>
      e.textContent?.trim(),
    );
    expect(lines).toEqual(['Test', 'HbA1c', 'Result', '6.1', 'Unit', '%']);
    expect(byTestId(root, 'message-kind-tag').textContent).toContain('Lab result');
    expect(byTestId(root, 'ack-status').textContent).toContain('Waiting for acknowledgment');
  });

  it('the patient acknowledges a result that asks for it, and pages back to older messages', async () => {
    await signInAs(patient);
    const result = await envelope(provider, patient, 'Your X-ray is clear.', 20, {
      requiresAcknowledgment: true,
    });
    await openConversation('patient', [result], 'older-1');
    answerReadReceipts();
    byTestId(root, 'acknowledge-button').click();
    const ack = await nextRequest(
      'POST',
      `/conversations/${CONVERSATION}/messages/${result.messageId}/acknowledgment`,
    );
    ack.flush(null, { status: 204, statusText: 'No Content' });
    await until(() => !root.querySelector('[data-testid="acknowledge-button"]'), 'the acknowledgment');
    expect(byTestId(root, 'ack-status').textContent).toContain('Acknowledged by You');

    byTestId(root, 'older-messages').click();
    const older = await nextRequest('GET', `/conversations/${CONVERSATION}/messages`);
    expect(older.request.params.get('cursor')).toBe('older-1');
    older.flush({ items: [await envelope(patient, patient, 'Booked my X-ray', 11)], nextCursor: null });
    await until(() => texts().length === 2, 'the older message');
    expect(texts()).toEqual(['Booked my X-ray', 'Your X-ray is clear.']);
    expect(root.querySelector('[data-testid="older-messages"]')).toBeNull();
  });

  it('hides the conversation from the inbox and shows it again; nothing is deleted', async () => {
    await signInAs(patient);
    await openConversation('patient', [await envelope(patient, patient, 'Thanks', 2)]);
    byTestId(root, 'hide-conversation').click();
    (await nextRequest('POST', `/conversations/${CONVERSATION}/hide`)).flush(null, {
      status: 204,
      statusText: 'No Content',
    });
    await until(() => !!root.querySelector('[data-testid="hidden-notice"]'), 'the hidden notice');
    expect(byTestId(root, 'hidden-notice').textContent).toContain('Nothing was deleted');
    expect(texts()).toEqual(['Thanks']);
    byTestId(root, 'unhide-conversation').click();
    (await nextRequest('POST', `/conversations/${CONVERSATION}/unhide`)).flush(null, {
      status: 204,
      statusText: 'No Content',
    });
    await until(() => !!root.querySelector('[data-testid="hide-conversation"]'), 'shown again');
    expect(root.querySelector('[data-testid="hidden-notice"]')).toBeNull();
    http.verify();
  });

  it('a provider who left keeps reading the history but cannot write', async () => {
    await signInAs(provider);
    await openConversation('provider', [await envelope(patient, provider, 'Before you left', 2)], null, {
      providers: ['0x' + '7'.repeat(40)],
      formerProviders: [provider.address],
      active: false,
      triage: null,
    });
    answerReadReceipts();
    expect(texts()).toEqual(['Before you left']);
    expect(byTestId(root, 'not-in-care-team').textContent).toContain('The history stays readable.');
    expect(root.querySelector('[data-testid="message-input"]')).toBeNull();
  });
});
