/**
 * The envelope every Custos event travels in, in the event store and between processes. Plain data:
 * it serialises to JSON unchanged.
 */
export interface EventMetadata {
  /** Who caused the event: a wallet address (lower case), or `system` / `chain`. */
  actor: string;
  /** Shared by every event that one user action led to. */
  correlationId: string;
  /** The id of the command or event that directly caused this one. */
  causationId: string;
  /** When the event happened, ISO-8601 UTC. For chain facts: the block's time. */
  occurredAt: string;
  /** Chain facts only: where the log was found. */
  chain?: {
    chainId: number;
    blockNumber: number;
    blockHash: string;
    txHash: string;
    logIndex: number;
  };
}

/** An event as a decider produces it: no id and no metadata yet. */
export interface EventDraft<Type extends string = string, Data = unknown> {
  type: Type;
  /** Schema version of `data` for this type; bumped when the shape changes. */
  version: number;
  data: Data;
}

/** An event ready to append. `id` makes appends idempotent (chain facts use `txHash:logIndex`). */
export interface NewEvent<Type extends string = string, Data = unknown> extends EventDraft<Type, Data> {
  id: string;
  metadata: EventMetadata;
}

/** An event as the store returns it. */
export interface RecordedEvent<Type extends string = string, Data = unknown> extends NewEvent<Type, Data> {
  stream: string;
  /** 0-based index of the event in its stream. */
  revision: number;
  /** Position in the store's global order: strictly increasing across all streams. */
  position: number;
  /** When the store recorded the event, ISO-8601 UTC. */
  recordedAt: string;
}
