import type { FindQuery, ReadDocument, ReadModelStore } from '../read-models/read-model.port';

/** Every document a query matches, page by page, up to `max`. */
export async function findAll<T extends ReadDocument>(
  readModels: ReadModelStore,
  collection: string,
  query: Omit<FindQuery, 'cursor' | 'limit'>,
  max = Number.MAX_SAFE_INTEGER,
): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await readModels.find<T>(collection, { ...query, cursor, limit: 1000 });
    rows.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && rows.length < max);
  return rows.slice(0, max);
}
