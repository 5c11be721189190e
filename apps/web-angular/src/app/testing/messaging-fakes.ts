/**
 * Fakes for the messaging specs (never part of the app build): a scripted live socket, and messaging
 * identities (a wallet's derived key pair and its registered, signed key) made with the same libraries
 * as the app.
 */
import type { Provider } from '@angular/core';
import { messagingKeyStatement } from '@custos/domain/messaging';
import { KEY_DERIVATION_MESSAGE, type MessagingKeyPair, deriveKeyPair } from '@custos/e2ee';
import { HDNodeWallet } from 'ethers';

import { LIVE_RECONNECT_DELAY, LIVE_SOCKET_FACTORY, type LiveSocket } from '../messaging/live-messages';
import type { MessagingKeyView } from '../messaging/messaging-api';
import { TEST_MNEMONIC } from './test-helpers';

/** A WebSocket the test drives: `open()`, `deliver(frame)`, `drop(code)`; what the app sent is in `sent`. */
export class FakeLiveSocket implements LiveSocket {
  readyState = 0;
  readonly sent: unknown[] = [];
  closedByClient = false;
  onopen: (() => void) | null = null;
  onmessage: ((event: { readonly data: unknown }) => void) | null = null;
  onclose: ((event: { readonly code: number }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: readonly string[],
  ) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }

  /** The server accepted the connection. */
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }

  /** The server sends one frame. */
  deliver(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The connection is lost (or the server closes it with `code`). */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

/** Providers that make the app open `FakeLiveSocket`s (kept in `sockets`, newest last) and reconnect at once. */
export function fakeLiveSockets(): { sockets: FakeLiveSocket[]; providers: Provider[] } {
  const sockets: FakeLiveSocket[] = [];
  return {
    sockets,
    providers: [
      {
        provide: LIVE_SOCKET_FACTORY,
        useValue: (url: string, protocols: string[]) => {
          const socket = new FakeLiveSocket(url, protocols);
          sockets.push(socket);
          return socket;
        },
      },
      { provide: LIVE_RECONNECT_DELAY, useValue: 0 },
    ],
  };
}

/** An account of TEST_MNEMONIC with its messaging key derived and signed, as the app makes them. */
export interface MessagingIdentity {
  readonly wallet: HDNodeWallet;
  /** Lower-case address. */
  readonly address: string;
  readonly keys: MessagingKeyPair;
  /** What `GET /messaging/keys/:address` answers for it. */
  readonly view: MessagingKeyView;
}

export async function messagingIdentity(accountIndex: number): Promise<MessagingIdentity> {
  const wallet = HDNodeWallet.fromPhrase(TEST_MNEMONIC, undefined, `m/44'/60'/0'/0/${accountIndex}`);
  const address = wallet.address.toLowerCase();
  const keys = await deriveKeyPair(await wallet.signMessage(KEY_DERIVATION_MESSAGE));
  const signature = await wallet.signMessage(messagingKeyStatement(address, keys.publicKey));
  return {
    wallet,
    address,
    keys,
    view: {
      account: address,
      publicKey: keys.publicKey,
      signature,
      registeredAt: '2026-11-20T09:00:00.000Z',
    },
  };
}
