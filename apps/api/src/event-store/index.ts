export * from './event-store.factory';
export * from './event-store.module';
export * from './event-store.port';
export { EventStoreDbEventStore } from './eventstoredb.event-store';
export { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite.event-store';
