import { Injectable, computed, inject, signal } from '@angular/core';

import { toApiError } from '../core/api-client';
import { Session } from '../core/session';
import { type AppNotification, PatientApi } from './patient-api';

/** Notification kinds that must stand out. */
export const URGENT_KINDS: ReadonlySet<string> = new Set(['emergency_access_started']);

const SEEN_KEY_PREFIX = 'custos.notifications.seen.';

/**
 * My notifications (`GET /notifications/me`, the newest 50) and how many are new. The API keeps no
 * read state, so "seen" is remembered in this browser (localStorage, per account): the time of the
 * newest notification shown on the notifications page.
 */
@Injectable({ providedIn: 'root' })
export class NotificationFeed {
  private readonly api = inject(PatientApi);
  private readonly session = inject(Session);
  private readonly seenUntil = signal<string>('');

  readonly items = signal<readonly AppNotification[]>([]);
  readonly status = signal<'idle' | 'loading' | 'ready' | 'error'>('idle');
  readonly error = signal<string | null>(null);
  readonly hasMore = signal(false);
  private nextCursor: string | null = null;

  /** Notifications newer than the last time the list was seen. */
  readonly unseen = computed(() => {
    const since = this.seenUntil();
    return this.items().filter((n) => n.occurredAt > since);
  });
  readonly unseenCount = computed(() => this.unseen().length);
  /** The newest unseen emergency access, if any: shown as a banner across the patient area. */
  readonly unseenEmergency = computed(() => this.unseen().find((n) => URGENT_KINDS.has(n.kind)) ?? null);

  constructor() {
    // Another account may sign in next in this tab: forget this one's notifications.
    this.session.onEnd(() => {
      this.items.set([]);
      this.status.set('idle');
      this.error.set(null);
      this.hasMore.set(false);
      this.nextCursor = null;
    });
  }

  /** Reads the newest notifications again. */
  async load(): Promise<void> {
    this.seenUntil.set(this.readSeen());
    if (this.status() !== 'ready') this.status.set('loading');
    try {
      const page = await this.api.notifications();
      this.items.set(page.items);
      this.nextCursor = page.nextCursor;
      this.hasMore.set(page.nextCursor !== null);
      this.error.set(null);
      this.status.set('ready');
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }

  /** Appends the next page. */
  async loadMore(): Promise<void> {
    if (!this.nextCursor) return;
    const page = await this.api.notifications(this.nextCursor);
    this.items.update((items) => [...items, ...page.items]);
    this.nextCursor = page.nextCursor;
    this.hasMore.set(page.nextCursor !== null);
  }

  /** Marks everything loaded as seen. */
  markSeen(): void {
    const newest = this.items().reduce((max, n) => (n.occurredAt > max ? n.occurredAt : max), '');
    if (!newest || newest <= this.seenUntil()) return;
    this.seenUntil.set(newest);
    try {
      localStorage.setItem(this.key(), newest);
    } catch {
      // Storage disabled: "new" resets on reload.
    }
  }

  private readSeen(): string {
    try {
      return localStorage.getItem(this.key()) ?? '';
    } catch {
      return '';
    }
  }

  private key(): string {
    return SEEN_KEY_PREFIX + (this.session.address() ?? '').toLowerCase();
  }
}
