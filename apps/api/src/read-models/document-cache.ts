/**
 * Documents as committed, by collection and id, as their JSON text (`null`: no such document), at most
 * `maxBytes` of it. Each read parses the text again, so callers get objects of their own.
 *
 * The SQLite read models keep one: a lookup in SQLite costs ~10-30 µs once any commit has emptied the
 * read connection's page cache (every commit does, and under load every request commits an audit
 * entry), while a request reads a few documents (the caller's roles, a consent, a consultation).
 * The store keeps it true: its own units update what it holds when they commit, and a commit by
 * anyone else on the file (another process) empties it (see SqliteReadModelStore).
 *
 * Two generations rather than an exact LRU list: documents go into the current one; when it holds half
 * the room it becomes the previous one and the one before is dropped whole; a document read from the
 * previous generation moves to the current one. So what is read again stays, and every step is O(1).
 * (A Map used as an LRU list, dropping its first entry each time, slowed the soak by a third once full:
 * V8 skips the deleted entries at its front on every look at the first one.)
 */
export class DocumentCache {
  private current = new Map<string, string | null>();
  private currentBytes = 0;
  private previous = new Map<string, string | null>();

  constructor(private readonly maxBytes: number) {}

  /** The document's JSON, `null` when it is known not to exist, `undefined` when not held. */
  get(collection: string, id: string): string | null | undefined {
    const key = keyOf(collection, id);
    const json = this.current.get(key);
    if (json !== undefined) return json;
    const old = this.previous.get(key);
    if (old !== undefined) {
      this.previous.delete(key);
      this.add(key, old);
    }
    return old;
  }

  /** Holds what was read (an absent document as `null`). */
  set(collection: string, id: string, json: string | null): void {
    const key = keyOf(collection, id);
    this.previous.delete(key);
    const held = this.current.get(key);
    if (held !== undefined) {
      this.current.delete(key);
      this.currentBytes -= sizeOf(key, held);
    }
    this.add(key, json);
  }

  /** A committed change: replaces what is held of the document, without holding ones not read. */
  changed(collection: string, id: string, json: string | null): void {
    const key = keyOf(collection, id);
    if (this.current.has(key) || this.previous.has(key)) this.set(collection, id, json);
  }

  clear(): void {
    this.current = new Map();
    this.currentBytes = 0;
    this.previous = new Map();
  }

  private add(key: string, json: string | null): void {
    const size = sizeOf(key, json);
    if (size > this.maxBytes / 16) return; // one huge document must not push out all the others
    this.current.set(key, json);
    this.currentBytes += size;
    if (this.currentBytes > this.maxBytes / 2) {
      this.previous = this.current;
      this.current = new Map();
      this.currentBytes = 0;
    }
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
