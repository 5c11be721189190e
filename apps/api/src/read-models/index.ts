export * from './read-model.port';
export type { ReadModelStoreAdapter } from './read-model.common';
export * from './read-model.factory';
export * from './read-models.module';
export { MongoReadModelStore } from './mongodb.read-model';
export { SqliteReadModelStore } from './sqlite.read-model';
