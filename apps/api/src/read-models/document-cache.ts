/**
 * Documents as committed, by collection and id, as their JSON text (`null`: no such document), the
 * least recently read dropped first once `maxBytes` of text is held. Each read parses the text again,
 * so callers get objects of their own.
 *
 * The SQLite read models keep one: a lookup in SQLite costs ~10-30 µs once any commit has emptied the
 * read connection's page cache (every commit does, and under load every request commits an audit
 * entry), while a request reads a few documents (the caller's roles, a consent, a consultation).
 * The store keeps it true: its own units update what it holds when they commit, and a commit by
 * anyone else on the file (another process) empties it (see SqliteReadModelStore).
 */
export class DocumentCache {
  private readonly entries = new Map<string, string | null>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The document's JSON, `null` when it is known not to exist, `undefined` when not held. */
  get(collection: string, id: string): string | null | undefined {
    const key = keyOf(collection, id);
    const json = this.entries.get(key);
    if (json === undefined) return undefined;
    // Most recently read last: Map keeps insertion order, so the first entry is the one to drop.
    this.entries.delete(key);
    this.entries.set(key, json);
    return json;
  }

  /** Holds what was read (an absent document as `null`). */
  set(collection: string, id: string, json: string | null): void {
    const key = keyOf(collection, id);
    this.remove(key);
    const size = sizeOf(key, json);
    if (size > this.maxBytes / 16) return; // one huge document must not evict all the others
    this.entries.set(key, json);
    this.bytes += size;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= sizeOf(oldest, value);
    }
  }

  /** A committed change: replaces what is held of the document, without holding ones not read. */
  changed(collection: string, id: string, json: string | null): void {
    if (this.entries.has(keyOf(collection, id))) this.set(collection, id, json);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private remove(key: string): void {
    const json = this.entries.get(key);
    if (json === undefined) return;
    this.entries.delete(key);
    this.bytes -= sizeOf(key, json);
  }
}

/** Collection names are identifiers, so a NUL cannot occur in one. */
function keyOf(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

/** Text length plus a rough allowance for the entry itself. */
function sizeOf(key: string, json: string | null): number {
  return key.length + (json?.length ?? 0) + 64;
}
