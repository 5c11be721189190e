import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule } from '../config/config.module';
import { loadConfig } from '../config/load-config';
import { HealthModule } from '../health/health.module';
import { HealthService } from '../health/health.service';
import { BlobStoreModule } from './blob-store.module';
import { BLOB_STORE, type BlobStore, BlobStoreClosedError } from './blob-store.port';
import { FsBlobStore } from './fs.blob-store';

const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-blob-store-module-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('BlobStoreModule provides the configured store, reports it in /health and closes it on shutdown', async () => {
  @Module({
    imports: [ConfigModule.forRoot(loadConfig({ CUSTOS_DATA_DIR: dataDir })), HealthModule, BlobStoreModule],
  })
  class TestModule {}

  const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
  await app.init();
  const store = app.get<BlobStore>(BLOB_STORE);
  assert.ok(store instanceof FsBlobStore);
  assert.equal(store.folder, path.join(dataDir, 'blobs'));

  const report = await app.get(HealthService).report();
  assert.deepEqual(report.components.blobStore, { status: 'up', detail: 'files' });

  const { cid } = await store.put(new Uint8Array([1, 2, 3]));
  await app.close();
  await assert.rejects(store.get(cid), BlobStoreClosedError);
});
