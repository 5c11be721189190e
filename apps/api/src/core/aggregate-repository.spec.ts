// The repository keeps each stream's folded state between commands and reads only the events appended
// since (found by the soak: folding a whole conversation per message made a send cost the square of
// the conversation's length). The state it decides on must still be exactly the fold of the stream.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type ConsentCommand,
  consentDecider,
  type ConsentEvent,
  consentStream,
  DomainError,
  fold,
} from '@custos/domain';
import { Registry } from 'prom-client';
import { createEventStore } from '../event-store/event-store.factory';
import type { EventStore, ReadStreamOptions } from '../event-store/event-store.port';
import { HealthService } from '../health/health.service';
import { ProjectionsService } from '../projections/projections.module';
import { createReadModelStore } from '../read-models/read-model.factory';
import type { ReadModelStoreAdapter } from '../read-models/read-model.common';
import { AggregateRepository, stamp } from './aggregate-repository';

const patient = `0x${'a1'.repeat(20)}`;
const stream = consentStream(patient);
const provider = (i: number) => `0x${i.toString(16).padStart(40, '0')}`;
const context = () => ({ actor: 'system', correlationId: randomUUID(), now: new Date() });
const request = (i: number, category = 'lab_results'): ConsentCommand => ({
  type: 'RequestConsent',
  requestId: randomUUID(),
  patient,
  provider: provider(i + 1),
  category,
  purpose: 'Routine follow-up',
  durationSeconds: 86_400,
});

describe('AggregateRepository: folded states kept between commands', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-aggregates-'));
  let store: EventStore;
  let readModels: ReadModelStoreAdapter;
  let projections: ProjectionsService;
  let aggregates: AggregateRepository;
  /** fromRevision of each read of the patient's stream. */
  const reads: number[] = [];

  before(async () => {
    store = createEventStore({ CUSTOS_DATA_DIR: dir, EVENTSTORE_URL: undefined });
    readModels = await createReadModelStore({ CUSTOS_DATA_DIR: dir, MONGODB_URI: undefined });
    projections = new ProjectionsService(store, readModels, new Registry(), new HealthService());
    await projections.runner.start();
    const readStream = store.readStream.bind(store);
    store.readStream = (name: string, options?: ReadStreamOptions) => {
      if (name === stream) reads.push(options?.fromRevision ?? 0);
      return readStream(name, options);
    };
    aggregates = new AggregateRepository(store, projections);
  });

  after(async () => {
    await projections.runner.stop();
    await readModels.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each command reads only the events appended since the last one', async () => {
    for (let i = 0; i < 30; i++) await aggregates.execute(consentDecider, stream, request(i), context());
    // The first finds no stream (nothing to keep); each later one starts after the revision before it.
    assert.deepEqual(reads, [0, ...Array.from({ length: 29 }, (_, i) => i)]);
  });

  test('the state is the fold of the whole stream, including what another writer appended', async () => {
    const byOther: ConsentEvent = {
      type: 'ConsentRequested',
      version: 1,
      data: {
        requestId: randomUUID(),
        patient,
        provider: provider(99),
        category: 'imaging',
        purpose: 'Second opinion',
        durationSeconds: 86_400,
        requestedAt: new Date().toISOString(),
      },
    };
    await store.append(stream, stamp([byOther], context()), 'any');
    const { state, revision } = await aggregates.load(consentDecider, stream);
    const all = (await store.readStream(stream)) as unknown as ConsentEvent[];
    assert.equal(revision, 30);
    assert.deepEqual(state, fold(consentDecider, all));
    assert.equal(state.requests.size, 31);
    // The rules still see every request: the other writer's is pending.
    await assert.rejects(
      aggregates.execute(consentDecider, stream, request(98, 'imaging'), context()),
      (error: unknown) => error instanceof DomainError && error.code === 'request_already_pending',
    );
  });

  test('a decider with another evolve folds the stream from the start', async () => {
    reads.length = 0;
    const other = { ...consentDecider, evolve: consentDecider.evolve.bind(null) };
    const { state } = await aggregates.load(other, stream);
    assert.deepEqual(reads, [0]);
    assert.equal(state.requests.size, 31);
  });
});
