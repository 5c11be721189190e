import { Injectable, InjectionToken, inject, signal } from '@angular/core';
import { type Observable, Subject } from 'rxjs';

import { Session } from '../core/session';
import type { MessageView } from './messaging-api';

/** A message sent to me, as `/messages/live` delivers it (`wrappedKey` is mine). */
export type LiveMessage = { readonly type: 'message' } & MessageView;

/** A receipt for a message sent to me. */
export interface LiveReceipt {
  readonly type: 'acknowledgment' | 'read';
  readonly position: number;
  readonly conversationId: string;
  readonly messageId: string;
  readonly by: string;
  readonly at: string;
}

export type LiveItem = LiveMessage | LiveReceipt;

/** The part of the browser's WebSocket the live delivery uses (tests give a fake). */
export interface LiveSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onclose: ((event: { readonly code: number }) => void) | null;
  onerror: (() => void) | null;
}

/** Opens the live socket: `new WebSocket(url, protocols)` in the browser. */
export const LIVE_SOCKET_FACTORY = new InjectionToken<(url: string, protocols: string[]) => LiveSocket>(
  'LIVE_SOCKET_FACTORY',
  {
    providedIn: 'root',
    factory: () => (url, protocols) => new WebSocket(url, protocols) as unknown as LiveSocket,
  },
);

/** First wait before reconnecting (ms); it doubles up to 30 s. */
export const LIVE_RECONNECT_DELAY = new InjectionToken<number>('LIVE_RECONNECT_DELAY', {
  providedIn: 'root',
  factory: () => 1000,
});

export const LIVE_PATH = '/messages/live';
const MAX_RECONNECT_DELAY_MS = 30_000;
/** Close code: the session expired or was signed out (sign in again; do not reconnect). */
const SESSION_ENDED = 4001;
/** Delivered ids remembered for deduplication (the oldest are forgotten first). */
const MAX_REMEMBERED = 10_000;

/** `idle`: not started; `ended`: the session ended (no reconnect). */
export type LiveStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'ended';

/**
 * Live delivery of my messages and receipts over `/messages/live` (see the API's message-delivery.ts).
 *
 * Connects with the subprotocols `custos` and `custos-token.<session token>`. Delivery is at least
 * once: messages are deduplicated by `messageId`, receipts by type, `messageId` and `by`. The highest
 * `position` seen is kept; on every (re)connection the client sends `{ type: 'resume', after }` so that
 * nothing that happened meanwhile is missed (and asks again while the replay says `more`). Positions
 * of the history loaded over HTTP before the first connection are reported with `observe()`, so that
 * the first connection resumes after the history already shown.
 *
 * `start()` is reference-counted: the socket is open while at least one view needs it.
 */
@Injectable({ providedIn: 'root' })
export class LiveMessages {
  private readonly session = inject(Session);
  private readonly openSocket = inject(LIVE_SOCKET_FACTORY);
  private readonly baseDelay = inject(LIVE_RECONNECT_DELAY);
  private readonly subject = new Subject<LiveItem>();
  private readonly seen = new Set<string>();
  private socket: LiveSocket | null = null;
  private users = 0;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private highest: number | null = null;
  private wasOpen = false;

  readonly status = signal<LiveStatus>('idle');
  /** Counts reconnections after an interruption: views refresh what they show when it changes. */
  readonly reconnects = signal(0);
  /** Each new message or receipt, once. */
  readonly items: Observable<LiveItem> = this.subject.asObservable();

  constructor() {
    this.session.onEnd(() => {
      this.users = 0;
      this.disconnect('idle');
      this.seen.clear();
      this.highest = null;
      this.wasOpen = false;
    });
  }

  /** Opens the socket if needed; call the returned function when the view no longer needs it. */
  start(): () => void {
    this.users++;
    if (!this.socket && this.status() !== 'reconnecting') this.connect();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.users = Math.max(0, this.users - 1);
      if (this.users === 0) this.disconnect('idle');
    };
  }

  /**
   * A position seen over HTTP (a history page) before the socket first opened: the first connection
   * resumes after it, so nothing falls between the history and the live items. Later, positions come
   * from the socket only (an HTTP position can run ahead of items still on their way), and views
   * refresh after a reconnection (`reconnects`).
   */
  observe(position: number): void {
    if (!Number.isSafeInteger(position) || this.wasOpen) return;
    this.highest = Math.max(this.highest ?? -1, position);
  }

  private connect(): void {
    const token = this.session.token();
    if (!token) {
      this.status.set('ended');
      return;
    }
    this.status.set(this.wasOpen ? 'reconnecting' : 'connecting');
    let socket: LiveSocket;
    try {
      socket = this.openSocket(liveUrl(), ['custos', `custos-token.${token}`]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      const reconnected = this.wasOpen;
      this.wasOpen = true;
      this.status.set('open');
      if (this.highest !== null) this.resume(this.highest);
      if (reconnected) this.reconnects.update((n) => n + 1);
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.users === 0) return;
      if (event.code === SESSION_ENDED) {
        this.status.set('ended');
        return;
      }
      this.scheduleReconnect();
    };
    socket.onerror = () => undefined; // a close follows
  }

  private disconnect(status: LiveStatus): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close(1000, 'done');
    }
    this.status.set(status);
  }

  private scheduleReconnect(): void {
    this.status.set('reconnecting');
    const delay = Math.min(this.baseDelay * 2 ** this.attempt, MAX_RECONNECT_DELAY_MS);
    this.attempt++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.users > 0 && !this.socket) this.connect();
    }, delay);
  }

  private resume(after: number): void {
    this.socket?.send(JSON.stringify({ type: 'resume', after }));
  }

  private receive(data: unknown): void {
    let frame: unknown;
    try {
      frame = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    const item = frame as { type?: unknown; position?: unknown; through?: unknown; more?: unknown };
    if (item.type === 'resumed') {
      if (typeof item.through === 'number') this.highest = Math.max(this.highest ?? -1, item.through);
      if (item.more === true && this.highest !== null) this.resume(this.highest);
      return;
    }
    if (item.type !== 'message' && item.type !== 'acknowledgment' && item.type !== 'read') return;
    const live = frame as LiveItem;
    if (typeof live.position === 'number') this.highest = Math.max(this.highest ?? -1, live.position);
    const key =
      live.type === 'message' ? `message|${live.messageId}` : `${live.type}|${live.messageId}|${live.by}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
    this.subject.next(live);
  }
}

/** `ws(s)://<this origin>/messages/live`. */
export function liveUrl(): string {
  const { protocol, host } = globalThis.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${LIVE_PATH}`;
}
