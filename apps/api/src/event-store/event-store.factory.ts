import type { AppConfig } from '../config/config.schema';
import type { EventStore } from './event-store.port';
import { EventStoreDbEventStore } from './eventstoredb.event-store';
import { SqliteEventStore } from './sqlite.event-store';

/** The settings the event store reads (a subset of AppConfig, so tests can pass just these). */
export type EventStoreConfig = Pick<AppConfig, 'CUSTOS_DATA_DIR' | 'EVENTSTORE_URL'>;

export interface EventStoreTuning {
  /** SQLite only: how often live subscriptions look for other processes' appends (ms). */
  pollIntervalMs?: number;
}

/**
 * Picks the adapter: EventStoreDB when EVENTSTORE_URL is set, otherwise the embedded SQLite file
 * `events.sqlite` under CUSTOS_DATA_DIR (the folder is created). Neither connects to anything here:
 * the EventStoreDB client connects on first use.
 */
export function createEventStore(config: EventStoreConfig, tuning: EventStoreTuning = {}): EventStore {
  if (config.EVENTSTORE_URL) return new EventStoreDbEventStore(config.EVENTSTORE_URL);
  return new SqliteEventStore({ dataDir: config.CUSTOS_DATA_DIR, pollIntervalMs: tuning.pollIntervalMs });
}
