import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MongoServerSelectionError } from 'mongodb';
import { ConfigModule } from '../config/config.module';
import { loadConfig } from '../config/load-config';
import { HealthModule } from '../health/health.module';
import { HealthService } from '../health/health.service';
import type { ReadModelStore } from './read-model.port';
import { createReadModelStore } from './read-model.factory';
import { READ_MODEL_STORE, ReadModelsModule } from './read-models.module';
import { SqliteReadModelStore } from './sqlite.read-model';

const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-read-models-module-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('the module provides the SQLite store under CUSTOS_DATA_DIR, reports it on /health, closes it on shutdown', async () => {
  @Module({
    imports: [ConfigModule.forRoot(loadConfig({ CUSTOS_DATA_DIR: dataDir })), HealthModule, ReadModelsModule],
  })
  class TestModule {}

  const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
  await app.init();
  const store = app.get<ReadModelStore>(READ_MODEL_STORE);
  assert.ok(store instanceof SqliteReadModelStore);
  assert.equal(store.file, path.join(dataDir, 'read-models.sqlite'));

  const report = await app.get(HealthService).report();
  assert.deepEqual(report.components.readModels, { status: 'up', detail: 'sqlite' });

  await app.close();
  await assert.rejects(store.checkpoint('any'), /closed/);
});

test('with MONGODB_URI set, the factory connects to MongoDB instead', async () => {
  // Nothing listens on port 1: the MongoDB driver gives up quickly, which shows it was chosen.
  await assert.rejects(
    createReadModelStore({
      CUSTOS_DATA_DIR: dataDir,
      MONGODB_URI: 'mongodb://127.0.0.1:1/custos?serverSelectionTimeoutMS=200',
    }),
    MongoServerSelectionError,
  );
});
