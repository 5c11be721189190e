import { ApiError } from '../core/api-error';
import { type ListPage, PagedList } from './paged-list';

/** A fetch whose answers the test gives, one per call, in call order. */
function answers<T>() {
  const calls: { cursor: string | undefined; answer: (page: ListPage<T> | Error) => void }[] = [];
  const fetch = (cursor: string | undefined) =>
    new Promise<ListPage<T>>((resolve, reject) =>
      calls.push({ cursor, answer: (page) => (page instanceof Error ? reject(page) : resolve(page)) }),
    );
  return { calls, fetch };
}

describe('PagedList', () => {
  it('loads the first page, then appends the next one by its cursor until there is none', async () => {
    const { calls, fetch } = answers<number>();
    const list = new PagedList(fetch);
    const first = list.load();
    expect(list.status()).toBe('loading');
    calls[0]!.answer({ items: [1, 2], nextCursor: 'c2' });
    await first;
    expect(list.status()).toBe('ready');
    expect(list.items()).toEqual([1, 2]);

    const more = list.loadMore();
    expect(list.loadingMore()).toBe(true);
    void list.loadMore(); // a second press while one loads asks nothing more
    expect(calls.map((c) => c.cursor)).toEqual([undefined, 'c2']);
    calls[1]!.answer({ items: [3], nextCursor: null });
    await more;
    expect(list.items()).toEqual([1, 2, 3]);
    expect(list.loadingMore()).toBe(false);
    await list.loadMore();
    expect(calls).toHaveLength(2);
  });

  it('drops an answer that comes after a newer load started (another filter, another patient)', async () => {
    const { calls, fetch } = answers<string>();
    const list = new PagedList(fetch);
    const stale = list.load();
    const fresh = list.load();
    calls[1]!.answer({ items: ['new'], nextCursor: null });
    await fresh;
    calls[0]!.answer({ items: ['old'], nextCursor: 'c' });
    await stale;
    expect(list.items()).toEqual(['new']);
    expect(list.nextCursor()).toBeNull();
  });

  it('says why a page failed: the first page as an error state, the next one beside the items kept', async () => {
    const { calls, fetch } = answers<number>();
    const list = new PagedList(fetch);
    const failing = list.load();
    calls[0]!.answer(new ApiError(503, undefined, 'The service is not available.'));
    await failing;
    expect(list.status()).toBe('error');
    expect(list.error()).toBe('The service is not available.');

    const retry = list.load();
    calls[1]!.answer({ items: [1], nextCursor: 'c' });
    await retry;
    const more = list.loadMore();
    calls[2]!.answer(new ApiError(0, undefined, 'No connection.'));
    await more;
    expect(list.status()).toBe('ready');
    expect(list.items()).toEqual([1]);
    expect(list.moreError()).toBe('No connection.');
  });

  it('keeps the items shown while it loads again, when asked to', async () => {
    const { calls, fetch } = answers<number>();
    const list = new PagedList(fetch);
    const first = list.load();
    calls[0]!.answer({ items: [1], nextCursor: null });
    await first;
    const again = list.load({ keepShown: true });
    expect(list.status()).toBe('ready');
    expect(list.items()).toEqual([1]);
    calls[1]!.answer({ items: [2, 1], nextCursor: null });
    await again;
    expect(list.items()).toEqual([2, 1]);
  });
});
