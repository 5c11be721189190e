import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { databaseName, DEFAULT_MONGODB_DATABASE, MongoReadModelStore } from './mongodb.read-model';
import { readModelConformance } from './read-model.conformance';

describe('mongodb read models: database from the connection string', () => {
  test('the path names the database; without one it is custos', () => {
    assert.equal(databaseName('mongodb://localhost:27017'), DEFAULT_MONGODB_DATABASE);
    assert.equal(databaseName('mongodb://localhost:27017/'), 'custos');
    assert.equal(databaseName('mongodb://localhost:27017/?replicaSet=rs0'), 'custos');
    assert.equal(databaseName('mongodb://app:p%40ss@a:1,b:2/health?replicaSet=rs0'), 'health');
    assert.equal(databaseName('mongodb+srv://cluster.example/read%5Fmodels'), 'read_models');
  });
});

const uri = process.env.MONGODB_URI;
if (!uri) {
  test('MongoDB read-model conformance', { skip: 'MongoDB conformance skipped: set MONGODB_URI' }, () => {});
} else {
  // One database per run, emptied after every test and dropped at the end.
  const database = `custos_read_models_test_${process.pid}_${Date.now()}`;
  const admin = new MongoClient(uri);
  after(async () => {
    await admin.db(database).dropDatabase();
    await admin.close();
  });

  readModelConformance('mongodb', async () => ({
    store: await MongoReadModelStore.connect(uri, { database }),
    dispose: async () => {
      await admin.db(database).dropDatabase();
    },
  }));
}
