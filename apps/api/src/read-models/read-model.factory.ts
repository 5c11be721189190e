import type { AppConfig } from '../config/config.schema';
import type { ReadModelStoreAdapter } from './read-model.common';
import { MongoReadModelStore } from './mongodb.read-model';
import { SqliteReadModelStore } from './sqlite.read-model';

export type ReadModelsConfig = Pick<AppConfig, 'CUSTOS_DATA_DIR' | 'MONGODB_URI'>;

/** MongoDB when MONGODB_URI is set, else the SQLite file under CUSTOS_DATA_DIR. */
export async function createReadModelStore(config: ReadModelsConfig): Promise<ReadModelStoreAdapter> {
  return config.MONGODB_URI
    ? MongoReadModelStore.connect(config.MONGODB_URI)
    : SqliteReadModelStore.open(config.CUSTOS_DATA_DIR);
}
