import type { RecordedEvent } from '@custos/domain';
import type { CollectionSpec, ReadModelWriter } from '../read-models/read-model.port';

/**
 * A projection turns events into read-model documents. `apply` must be deterministic: it may read
 * only the event (data and metadata) and the documents it wrote before, never the clock, so that a
 * rebuild from zero equals the live read model.
 */
export interface Projection {
  /** Also the checkpoint's name. */
  readonly name: string;
  readonly collections: readonly CollectionSpec[];
  /** Event types it reads; the checkpoint moves past every other event without calling `apply`. */
  readonly eventTypes: ReadonlySet<string>;
  apply(event: RecordedEvent, writer: ReadModelWriter): Promise<void>;
}

/** Typed access to an event's data inside `apply`, where the type was already matched. */
export function dataOf<T>(event: RecordedEvent): T {
  return event.data as T;
}
