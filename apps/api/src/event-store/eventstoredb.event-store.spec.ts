import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NewEvent } from '@custos/domain';
import { ANY, NO_STREAM, START, type RecordedEvent as EsdbRecordedEvent } from '@eventstore/db-client';
import { eventStoreConformance } from './event-store.conformance';
import { createEventStore } from './event-store.factory';
import {
  CUSTOS_EVENT_ID_NAMESPACE,
  EventStoreDbEventStore,
  fromEsdbEvent,
  isSystemEvent,
  numberToPosition,
  positionToNumber,
  toEsdbConnectionString,
  toEsdbEventData,
  toEsdbEventId,
  toEsdbExpectedRevision,
} from './eventstoredb.event-store';
import { uuidV5 } from './uuid-v5';

const EVENTSTORE_URL = process.env.EVENTSTORE_URL?.trim();
const SKIP_REASON = 'EventStoreDB conformance skipped: set EVENTSTORE_URL';

if (EVENTSTORE_URL) {
  eventStoreConformance('eventstoredb', async () => new EventStoreDbEventStore(EVENTSTORE_URL));
} else {
  test(SKIP_REASON, { skip: SKIP_REASON }, () => undefined);
}

const chainFact: NewEvent = {
  id: '0x8a3c0f5e2b7d4a6c9e1f0b2d4c6e8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d9e1f:4',
  type: 'ConsentGranted',
  version: 2,
  data: { patient: '0xabc', category: 'lab-results' },
  metadata: {
    actor: 'chain',
    correlationId: 'corr-1',
    causationId: 'cause-1',
    occurredAt: '2025-03-01T12:00:00.000Z',
    chain: { chainId: 31337, blockNumber: 12, blockHash: '0x01', txHash: '0x02', logIndex: 4 },
  },
};

describe('eventstoredb adapter mapping (no server needed)', () => {
  test('our ids become deterministic UUID v5 ids; the original id travels in the metadata', () => {
    const data = toEsdbEventData(chainFact);
    assert.equal(data.id, uuidV5(chainFact.id, CUSTOS_EVENT_ID_NAMESPACE));
    assert.equal(data.id, toEsdbEventId(chainFact.id), 'same id, same UUID: re-appends are recognised');
    assert.notEqual(toEsdbEventId(`${chainFact.id}0`), data.id);
    assert.equal(data.type, 'ConsentGranted');
    assert.equal(data.contentType, 'application/json');
    assert.deepEqual(data.data, chainFact.data);
    assert.deepEqual(data.metadata, {
      custosId: chainFact.id,
      version: 2,
      metadata: chainFact.metadata,
      $correlationId: 'corr-1',
      $causationId: 'cause-1',
    });
  });

  test('a stored event reads back as the event that was appended', () => {
    const data = toEsdbEventData(chainFact);
    const stored = {
      streamId: 'chain-31337',
      id: data.id,
      revision: 7n,
      type: data.type,
      data: data.data,
      metadata: data.metadata,
      isJson: true,
      created: new Date('2025-03-01T12:00:01.000Z'),
      position: { commit: 4096n, prepare: 4096n },
    } as EsdbRecordedEvent;
    assert.deepEqual(fromEsdbEvent(stored, 4096), {
      ...chainFact,
      stream: 'chain-31337',
      revision: 7,
      position: 4096,
      recordedAt: '2025-03-01T12:00:01.000Z',
    });
  });

  test('expected revisions map to the client’s constants and bigint revisions', () => {
    assert.equal(toEsdbExpectedRevision('any'), ANY);
    assert.equal(toEsdbExpectedRevision('no_stream'), NO_STREAM);
    assert.equal(toEsdbExpectedRevision(0), 0n);
    assert.equal(toEsdbExpectedRevision(41), 41n);
  });

  test('$all positions map to one number and back', () => {
    assert.equal(positionToNumber({ commit: 1234n, prepare: 1234n }), 1234);
    assert.deepEqual(numberToPosition(1234), { commit: 1234n, prepare: 1234n });
    assert.equal(numberToPosition(-1), START);
    assert.throws(() => positionToNumber({ commit: 2n ** 60n, prepare: 2n ** 60n }), RangeError);
  });

  test('system events ($ types or $ streams) are recognised', () => {
    assert.equal(isSystemEvent({ type: '$statsCollected', streamId: '$stats-127.0.0.1:2113' }), true);
    assert.equal(isSystemEvent({ type: '$metadata', streamId: '$$consent-0xabc' }), true);
    assert.equal(
      isSystemEvent({ type: 'SubscriptionCheckpoint', streamId: '$persistentsubscription-x' }),
      true,
    );
    assert.equal(isSystemEvent({ type: 'ConsentGranted', streamId: 'consent-0xabc' }), false);
  });

  test('kurrentdb:// connection strings are accepted by rewriting them for client 6', () => {
    assert.equal(toEsdbConnectionString('kurrentdb://es:2113?tls=false'), 'esdb://es:2113?tls=false');
    assert.equal(toEsdbConnectionString('kurrentdb+discover://a,b'), 'esdb+discover://a,b');
    assert.equal(toEsdbConnectionString('esdb://es:2113?tls=false'), 'esdb://es:2113?tls=false');
  });

  test('EVENTSTORE_URL selects this adapter (it connects on first use only)', async () => {
    const store = createEventStore({
      CUSTOS_DATA_DIR: './unused',
      EVENTSTORE_URL: 'esdb://127.0.0.1:1?tls=false',
    });
    assert.ok(store instanceof EventStoreDbEventStore);
    await store.close();
  });
});
