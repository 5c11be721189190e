import { signal } from '@angular/core';

import { toApiError } from '../core/api-error';

/** A page of a cursor-paged list, as the API answers it (after any mapping the view does). */
export interface ListPage<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/**
 * The state of a list the API serves a page at a time, for a view with an `app-load-more`: `load`
 * gets the first page (again), `loadMore` appends the next. An answer that comes back after a newer
 * `load` has started (another filter, another patient) is dropped.
 *
 * ```ts
 * protected readonly list = new PagedList((cursor) => this.api.accessLog(cursor));
 * ```
 */
export class PagedList<T> {
  readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  readonly items = signal<readonly T[]>([]);
  /** Why the first page could not be loaded. */
  readonly error = signal<string | null>(null);
  readonly nextCursor = signal<string | null>(null);
  readonly loadingMore = signal(false);
  /** Why the next page could not be loaded (the items loaded stay). */
  readonly moreError = signal<string | null>(null);
  private generation = 0;

  /** `fetchPage(undefined)` is the first page. */
  constructor(private readonly fetchPage: (cursor: string | undefined) => Promise<ListPage<T>>) {}

  /**
   * The first page (again). The list says 'loading' meanwhile, unless `keepShown` and it was ready:
   * then the items stay shown until the new ones come.
   */
  async load(options: { readonly keepShown?: boolean } = {}): Promise<void> {
    const generation = ++this.generation;
    if (!options.keepShown || this.status() !== 'ready') this.status.set('loading');
    try {
      const page = await this.fetchPage(undefined);
      if (generation !== this.generation) return;
      this.items.set(page.items);
      this.nextCursor.set(page.nextCursor);
      this.error.set(null);
      this.moreError.set(null);
      this.status.set('ready');
    } catch (error) {
      if (generation !== this.generation) return;
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }

  /** The next page, appended: nothing when there is none, or while one is loading. */
  async loadMore(): Promise<void> {
    const cursor = this.nextCursor();
    if (!cursor || this.loadingMore()) return;
    const generation = this.generation;
    this.loadingMore.set(true);
    this.moreError.set(null);
    try {
      const page = await this.fetchPage(cursor);
      if (generation !== this.generation) return;
      this.items.update((items) => [...items, ...page.items]);
      this.nextCursor.set(page.nextCursor);
    } catch (error) {
      if (generation === this.generation) this.moreError.set(toApiError(error).message);
    } finally {
      this.loadingMore.set(false);
    }
  }
}
