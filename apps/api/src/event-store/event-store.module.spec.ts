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
import { EVENT_STORE, EventStoreModule } from './event-store.module';
import type { EventStore } from './event-store.port';
import { SqliteEventStore } from './sqlite.event-store';

const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-event-store-module-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('EventStoreModule provides the configured store, reports it in /health and closes it on shutdown', async () => {
  @Module({
    imports: [ConfigModule.forRoot(loadConfig({ CUSTOS_DATA_DIR: dataDir })), HealthModule, EventStoreModule],
  })
  class TestModule {}

  const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
  await app.init();
  const store = app.get<EventStore>(EVENT_STORE);
  assert.ok(store instanceof SqliteEventStore);
  assert.equal(store.file, path.join(dataDir, 'events.sqlite'));

  const report = await app.get(HealthService).report();
  assert.deepEqual(report.components.eventStore, { status: 'up' });

  await store.append('s', [], 'no_stream');
  await app.close();
  await assert.rejects(store.headPosition(), /closed/);
});
