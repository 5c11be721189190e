import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import { Session } from '../core/session';
import { type FakeLiveSocket, fakeLiveSockets } from '../testing/messaging-fakes';
import { PATIENT_ADDRESS, PROVIDER_ADDRESS, signInForTest, until } from '../testing/test-helpers';
import { type LiveItem, LiveMessages } from './live-messages';

const CONVERSATION = 'c0ffee00-0000-4000-8000-000000000001';

const messageAt = (position: number, messageId: string) => ({
  type: 'message',
  position,
  conversationId: CONVERSATION,
  messageId,
  sender: PROVIDER_ADDRESS.toLowerCase(),
  senderRole: 'provider',
  kind: 'text',
  urgent: false,
  requiresAcknowledgment: false,
  ciphertext: 'x'.repeat(24),
  iv: 'y'.repeat(16),
  wrappedKey: 'z'.repeat(123),
  attachment: null,
  sentAt: '2026-11-25T10:00:00.000Z',
  acknowledgedBy: [],
  readBy: [],
});

describe('LiveMessages', () => {
  let sockets: FakeLiveSocket[];
  let received: LiveItem[];

  beforeEach(async () => {
    const fakes = fakeLiveSockets();
    sockets = fakes.sockets;
    TestBed.configureTestingModule({
      providers: [provideRouter([]), provideHttpClient(), provideHttpClientTesting(), ...fakes.providers],
    });
    await signInForTest([], PATIENT_ADDRESS);
    received = [];
    TestBed.inject(LiveMessages).items.subscribe((item) => received.push(item));
  });

  afterEach(() => {
    TestBed.inject(HttpTestingController).verify();
    sessionStorage.clear();
  });

  const live = () => TestBed.inject(LiveMessages);
  const last = () => sockets[sockets.length - 1]!;

  it('connects to /messages/live with the session token as a subprotocol', () => {
    live().start();
    expect(sockets).toHaveLength(1);
    expect(last().url).toMatch(/^wss?:\/\/[^/]+\/messages\/live$/);
    expect(last().protocols).toEqual(['custos', 'custos-token.test-token']);
    expect(live().status()).toBe('connecting');
    last().open();
    expect(live().status()).toBe('open');
    expect(last().sent).toEqual([]); // nothing seen yet: live from now on
  });

  it('resumes the first connection after the history already loaded over HTTP', () => {
    live().observe(41);
    live().observe(17);
    live().start();
    last().open();
    expect(last().sent).toEqual([{ type: 'resume', after: 41 }]);
  });

  it('delivers a message once however often it arrives, and receipts once per person', () => {
    live().start();
    last().open();
    last().deliver(messageAt(5, 'm-1'));
    last().deliver(messageAt(5, 'm-1'));
    last().deliver({
      type: 'read',
      position: 6,
      conversationId: CONVERSATION,
      messageId: 'm-1',
      by: '0xa',
      at: 'x',
    });
    last().deliver({
      type: 'read',
      position: 6,
      conversationId: CONVERSATION,
      messageId: 'm-1',
      by: '0xa',
      at: 'x',
    });
    last().deliver({
      type: 'read',
      position: 7,
      conversationId: CONVERSATION,
      messageId: 'm-1',
      by: '0xb',
      at: 'x',
    });
    last().deliver({ type: 'error', message: 'ignored' });
    expect(received.map((i) => `${i.type}:${i.messageId}:${'by' in i ? i.by : ''}`)).toEqual([
      'message:m-1:',
      'read:m-1:0xa',
      'read:m-1:0xb',
    ]);
  });

  it('reconnects after a drop and resumes after the highest position received (again while more)', async () => {
    live().start();
    last().open();
    last().deliver(messageAt(10, 'm-10'));
    last().deliver(messageAt(12, 'm-12'));
    const reconnectsBefore = live().reconnects();
    last().drop(1011);
    expect(live().status()).toBe('reconnecting');
    await until(() => sockets.length === 2, 'a new connection');
    last().open();
    expect(live().reconnects()).toBe(reconnectsBefore + 1);
    expect(last().sent).toEqual([{ type: 'resume', after: 12 }]);

    // The replay repeats m-12 (at least once) and brings what was missed; `more` asks for the rest.
    last().deliver(messageAt(12, 'm-12'));
    last().deliver(messageAt(15, 'm-15'));
    last().deliver({ type: 'resumed', through: 15, more: true });
    expect(last().sent).toEqual([
      { type: 'resume', after: 12 },
      { type: 'resume', after: 15 },
    ]);
    last().deliver({ type: 'resumed', through: 15, more: false });
    expect(received.map((i) => i.messageId)).toEqual(['m-10', 'm-12', 'm-15']);
  });

  it('does not reconnect when the server says the session ended (4001)', async () => {
    live().start();
    last().open();
    last().drop(4001);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sockets).toHaveLength(1);
    expect(live().status()).toBe('ended');
  });

  it('closes when the last view stops, and on sign-out', () => {
    const stopA = live().start();
    const stopB = live().start();
    last().open();
    stopA();
    expect(last().closedByClient).toBe(false);
    stopB();
    expect(last().closedByClient).toBe(true);
    expect(live().status()).toBe('idle');

    live().start();
    last().open();
    TestBed.inject(Session).end('signed-out');
    expect(last().closedByClient).toBe(true);
  });
});
