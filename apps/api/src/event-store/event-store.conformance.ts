/**
 * THE conformance suite of the event store port: every adapter runs it (see the *.event-store.spec.ts
 * files). It only uses the port, so it holds for a fresh SQLite file and for a shared EventStoreDB
 * alike: each test writes to streams of its own (random names) and looks at the global order only
 * after the head position it saw when it started, ignoring other streams.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { EventMetadata, NewEvent, RecordedEvent } from '@custos/domain';
import { ConcurrencyError, type EventStore, type EventSubscription } from './event-store.port';

/** Returns a new store for one test; the suite closes it when the test ends. */
export type EventStoreFactory = () => Promise<EventStore>;

/** How long a test waits for an event that should arrive (EventStoreDB over a network is slower). */
const DELIVERY_TIMEOUT_MS = 10_000;

function metadata(overrides: Partial<EventMetadata> = {}): EventMetadata {
  return {
    actor: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: '2025-03-01T12:00:00.000Z',
    ...overrides,
  };
}

function event(n: number, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    id: randomUUID(),
    type: 'TestHappened',
    version: 1,
    data: { n },
    metadata: metadata(),
    ...overrides,
  };
}

function events(count: number, from = 0): NewEvent[] {
  return Array.from({ length: count }, (_, i) => event(from + i));
}

function streamName(label: string): string {
  return `conformance_${label}-${randomUUID()}`;
}

/** Asserts `promise` rejects with a ConcurrencyError carrying these fields. */
async function rejectsWithConflict(
  promise: Promise<unknown>,
  expected: { stream: string; actual: number | 'no_stream' },
): Promise<ConcurrencyError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConcurrencyError, `expected a ConcurrencyError, got ${String(error)}`);
    assert.equal(error.name, 'ConcurrencyError');
    assert.equal(error.stream, expected.stream);
    assert.equal(error.actual, expected.actual);
    return error;
  }
  assert.fail('expected a ConcurrencyError, the append succeeded');
}

async function readAllOf(
  store: EventStore,
  streams: readonly string[],
  after?: number,
  maxCount?: number,
): Promise<RecordedEvent[]> {
  const wanted = new Set(streams);
  const found: RecordedEvent[] = [];
  for await (const recorded of store.readAll(after, maxCount === undefined ? {} : { maxCount }))
    if (wanted.has(recorded.stream)) found.push(recorded);
  return found;
}

/** Takes events of `streams` from the subscription until `count` arrived; fails after a timeout. */
async function take(
  subscription: EventSubscription,
  streams: readonly string[],
  count: number,
  onEvent?: (event: RecordedEvent, index: number) => void | Promise<void>,
): Promise<RecordedEvent[]> {
  const wanted = new Set(streams);
  const received: RecordedEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`subscription: ${received.length} of ${count} events within ${DELIVERY_TIMEOUT_MS} ms`),
        ),
      DELIVERY_TIMEOUT_MS,
    );
  });
  const iterator = subscription[Symbol.asyncIterator]();
  try {
    while (received.length < count) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) break;
      if (!wanted.has(next.value.stream)) continue;
      received.push(next.value);
      await onEvent?.(next.value, received.length - 1);
    }
  } finally {
    clearTimeout(timer);
  }
  return received;
}

function assertStrictlyIncreasing(positions: readonly number[]): void {
  for (let i = 1; i < positions.length; i++)
    assert.ok(
      (positions[i] as number) > (positions[i - 1] as number),
      `position ${positions[i]} after ${positions[i - 1]}`,
    );
}

/**
 * Defines the conformance tests for one adapter. `createStore` is called once per test and must
 * return a usable store (for SQLite: a new file); the suite closes it at the end of the test.
 */
export function eventStoreConformance(adapter: string, createStore: EventStoreFactory): void {
  /** Runs `body` with a fresh store and closes the store afterwards, whatever happens. */
  const withStore = (body: (store: EventStore) => Promise<void>) => async () => {
    const store = await createStore();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  };

  describe(`event store conformance: ${adapter}`, () => {
    describe('append and readStream', () => {
      test(
        'events come back as appended, metadata intact, with revisions from 0 and increasing positions',
        withStore(async (store) => {
          const stream = streamName('roundtrip');
          const chainFact = event(0, {
            id: '0x8a3c0f5e2b7d4a6c9e1f0b2d4c6e8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d9e1f:4',
            type: 'ConsentGranted',
            version: 2,
            data: {
              patient: '0xabc',
              category: 'lab-results',
              expiresAt: '2026-01-01T00:00:00.000Z',
              tags: ['a', 'b'],
            },
            metadata: metadata({
              actor: 'chain',
              chain: { chainId: 31337, blockNumber: 12, blockHash: '0x01', txHash: '0x02', logIndex: 4 },
            }),
          });
          const batch = [chainFact, event(1, { data: { nested: { deep: [1, null, 'x'] }, emoji: 'é' } })];
          const result = await store.append(stream, batch, 'no_stream');
          const stored = await store.readStream(stream);

          assert.equal(stored.length, 2);
          stored.forEach((recorded, i) => {
            const appended = batch[i] as NewEvent;
            assert.equal(recorded.id, appended.id);
            assert.equal(recorded.type, appended.type);
            assert.equal(recorded.version, appended.version);
            assert.deepEqual(recorded.data, appended.data);
            assert.deepEqual(recorded.metadata, appended.metadata);
            assert.equal(recorded.stream, stream);
            assert.equal(recorded.revision, i);
            assert.ok(Number.isSafeInteger(recorded.position) && recorded.position >= 0);
            assert.ok(!Number.isNaN(Date.parse(recorded.recordedAt)), 'recordedAt is a date');
            assert.match(recorded.recordedAt, /Z$/, 'recordedAt is UTC');
          });
          assertStrictlyIncreasing(stored.map((e) => e.position));
          assert.deepEqual(result, { revision: 1, position: stored[1]?.position });
        }),
      );

      test(
        'a stream that does not exist reads as empty',
        withStore(async (store) => {
          assert.deepEqual(await store.readStream(streamName('missing')), []);
        }),
      );

      test(
        'readStream honours fromRevision and maxCount',
        withStore(async (store) => {
          const stream = streamName('range');
          await store.append(stream, events(5), 'no_stream');
          const middle = await store.readStream(stream, { fromRevision: 1, maxCount: 3 });
          assert.deepEqual(
            middle.map((e) => e.revision),
            [1, 2, 3],
          );
          assert.deepEqual(
            (await store.readStream(stream, { fromRevision: 3 })).map((e) => e.data),
            [{ n: 3 }, { n: 4 }],
          );
          assert.deepEqual(await store.readStream(stream, { fromRevision: 5 }), []);
        }),
      );

      test(
        'an empty batch writes nothing but still checks the expected revision',
        withStore(async (store) => {
          const stream = streamName('empty');
          assert.deepEqual(await store.append(stream, [], 'no_stream'), { revision: -1, position: -1 });
          assert.deepEqual(await store.readStream(stream), []);
          const written = await store.append(stream, events(1), 'no_stream');
          assert.deepEqual(await store.append(stream, [], 0), written);
          await rejectsWithConflict(store.append(stream, [], 'no_stream'), { stream, actual: 0 });
        }),
      );
    });

    describe('expected revision', () => {
      test(
        'no_stream succeeds on a new stream and fails on an existing one, with the actual revision',
        withStore(async (store) => {
          const stream = streamName('nostream');
          assert.equal((await store.append(stream, events(2), 'no_stream')).revision, 1);
          const error = await rejectsWithConflict(store.append(stream, events(1), 'no_stream'), {
            stream,
            actual: 1,
          });
          assert.equal(error.expected, 'no_stream');
          assert.equal((await store.readStream(stream)).length, 2, 'nothing written');
        }),
      );

      test(
        'the exact current revision succeeds; a stale one fails with the actual revision and writes nothing',
        withStore(async (store) => {
          const stream = streamName('exact');
          await store.append(stream, events(1), 'no_stream');
          assert.equal((await store.append(stream, events(2, 1), 0)).revision, 2);
          const error = await rejectsWithConflict(store.append(stream, events(1, 3), 0), {
            stream,
            actual: 2,
          });
          assert.equal(error.expected, 0);
          await rejectsWithConflict(store.append(stream, events(1, 3), 5), { stream, actual: 2 });
          assert.deepEqual(
            (await store.readStream(stream)).map((e) => e.data),
            [{ n: 0 }, { n: 1 }, { n: 2 }],
          );
        }),
      );

      test(
        'a revision on a stream that does not exist fails with actual no_stream',
        withStore(async (store) => {
          const stream = streamName('ghost');
          await rejectsWithConflict(store.append(stream, events(1), 0), { stream, actual: 'no_stream' });
          assert.deepEqual(await store.readStream(stream), []);
        }),
      );

      test(
        'any appends whatever the stream holds',
        withStore(async (store) => {
          const stream = streamName('any');
          assert.equal((await store.append(stream, events(1), 'any')).revision, 0);
          assert.equal((await store.append(stream, events(2, 1), 'any')).revision, 2);
          assert.equal((await store.readStream(stream)).length, 3);
        }),
      );

      test(
        'of 50 concurrent appends expecting the same revision exactly one wins; the others get ConcurrencyError',
        withStore(async (store) => {
          const stream = streamName('race');
          await store.append(stream, events(1), 'no_stream');
          const outcomes = await Promise.allSettled(
            Array.from({ length: 50 }, (_, i) => store.append(stream, [event(100 + i)], 0)),
          );
          const won = outcomes.filter((o) => o.status === 'fulfilled');
          const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
          assert.equal(won.length, 1);
          assert.equal(lost.length, 49);
          for (const { reason } of lost) {
            assert.ok(reason instanceof ConcurrencyError, String(reason));
            assert.equal(reason.actual, 1);
          }
          assert.equal((await store.readStream(stream)).length, 2);
        }),
      );
    });

    describe('idempotent re-append', () => {
      test(
        're-appending events whose ids are all in the stream is a no-op returning where they are, even with a stale expected revision',
        withStore(async (store) => {
          const stream = streamName('idem');
          const head = await store.headPosition();
          const first = events(2);
          const second = events(1, 2);
          const firstResult = await store.append(stream, first, 'no_stream');
          const secondResult = await store.append(stream, second, 1);

          // A retry with the original expected revision, then with stale ones, then with any.
          assert.deepEqual(await store.append(stream, first, 'no_stream'), firstResult);
          assert.deepEqual(await store.append(stream, second, 1), secondResult);
          assert.deepEqual(await store.append(stream, second, 0), secondResult);
          assert.deepEqual(await store.append(stream, first, 'any'), firstResult);

          const stored = await store.readStream(stream);
          assert.deepEqual(
            stored.map((e) => e.id),
            [...first, ...second].map((e) => e.id),
          );
          const all = await readAllOf(store, [stream], head);
          assert.deepEqual(
            all.map((e) => e.id),
            stored.map((e) => e.id),
            'readAll shows each event once',
          );
        }),
      );

      test(
        'chain facts keyed by txHash:logIndex are deduplicated like any other id',
        withStore(async (store) => {
          const stream = streamName('chain');
          const fact = event(0, {
            id: '0x5e1f3c7a9b2d4e6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f:0',
          });
          const result = await store.append(stream, [fact], 'any');
          assert.deepEqual(await store.append(stream, [fact], 'any'), result);
          assert.deepEqual(
            (await store.readStream(stream)).map((e) => e.id),
            [fact.id],
          );
        }),
      );
    });

    describe('readAll', () => {
      test(
        'returns events of every stream in global order, strictly after the given position',
        withStore(async (store) => {
          const [a, b, c] = [streamName('a'), streamName('b'), streamName('c')];
          const head = await store.headPosition();
          await store.append(a, events(2, 0), 'no_stream');
          await store.append(b, events(1, 2), 'no_stream');
          await store.append(a, events(1, 3), 1);
          await store.append(c, events(3, 4), 'no_stream');
          await store.append(b, events(1, 7), 0);

          const all = await readAllOf(store, [a, b, c], head);
          assert.deepEqual(
            all.map((e) => (e.data as { n: number }).n),
            [0, 1, 2, 3, 4, 5, 6, 7],
          );
          assert.deepEqual(
            all.map((e) => e.stream),
            [a, a, b, a, c, c, c, b],
          );
          assertStrictlyIncreasing(all.map((e) => e.position));

          const third = all[2] as RecordedEvent;
          const after = await readAllOf(store, [a, b, c], third.position);
          assert.deepEqual(
            after.map((e) => e.id),
            all.slice(3).map((e) => e.id),
            'after is exclusive',
          );
          assert.deepEqual(await readAllOf(store, [a, b, c], (all[7] as RecordedEvent).position), []);
        }),
      );

      test(
        'maxCount limits how many events are returned',
        withStore(async (store) => {
          const stream = streamName('max');
          const head = await store.headPosition();
          await store.append(stream, events(5), 'no_stream');
          const firstThree: RecordedEvent[] = [];
          for await (const recorded of store.readAll(head, { maxCount: 3 })) firstThree.push(recorded);
          assert.equal(firstThree.length, 3);
          assert.deepEqual(
            firstThree.map((e) => e.stream),
            [stream, stream, stream],
          );
        }),
      );

      test(
        'headPosition is the position of the newest event',
        withStore(async (store) => {
          const before = await store.headPosition();
          assert.ok(Number.isSafeInteger(before) && before >= -1);
          const stream = streamName('head');
          const result = await store.append(stream, events(3), 'no_stream');
          assert.ok(result.position > before);
          assert.equal(await store.headPosition(), result.position);
          const stored = await store.readStream(stream);
          assert.equal(stored[2]?.position, result.position);
        }),
      );
    });

    describe('subscribe', () => {
      test(
        'catches up from the position, then delivers new events live, in order',
        withStore(async (store) => {
          const [a, b] = [streamName('sub-a'), streamName('sub-b')];
          await store.append(a, events(1), 'no_stream'); // before the subscription's position
          const start = await store.headPosition();
          await store.append(a, events(2, 1), 0);
          await store.append(b, events(2, 3), 'no_stream');

          const subscription = store.subscribe(start);
          try {
            const caughtUp = await take(subscription, [a, b], 4);
            assert.deepEqual(
              caughtUp.map((e) => (e.data as { n: number }).n),
              [1, 2, 3, 4],
            );
            const live = take(subscription, [a, b], 3);
            await store.append(b, events(1, 5), 1);
            await store.append(a, events(2, 6), 2);
            const delivered = await live;
            assert.deepEqual(
              delivered.map((e) => (e.data as { n: number }).n),
              [5, 6, 7],
            );
            assertStrictlyIncreasing([...caughtUp, ...delivered].map((e) => e.position));
          } finally {
            await subscription.close();
          }
        }),
      );

      test(
        'no event is duplicated or skipped across the catch-up/live boundary, even with appends during catch-up',
        withStore(async (store) => {
          const streams = [streamName('boundary-a'), streamName('boundary-b'), streamName('boundary-c')];
          const start = await store.headPosition();
          const appended: string[] = [];
          const revisions = new Map<string, number>();
          const appendRound = async (round: number, perStream: number) => {
            for (const stream of streams) {
              const batch = events(perStream, round * 1000);
              const expected = revisions.get(stream) ?? 'no_stream';
              const { revision } = await store.append(stream, batch, expected);
              revisions.set(stream, revision);
              appended.push(...batch.map((e) => e.id));
            }
          };
          for (let round = 0; round < 4; round++) await appendRound(round, 25); // 300 to catch up on

          const subscription = store.subscribe(start);
          try {
            // While the subscriber is catching up, more rounds land (each awaited in the middle of delivery).
            let round = 4;
            const received = await take(subscription, streams, 300 + 6 * 30, async (_event, index) => {
              if (index % 50 === 10 && round < 10) await appendRound(round++, 10);
            });
            assert.equal(round, 10, 'all extra rounds were appended during delivery');
            assert.equal(received.length, appended.length);
            assert.deepEqual(
              received.map((e) => e.id),
              appended,
              'every event once, in append order',
            );
            assertStrictlyIncreasing(received.map((e) => e.position));
          } finally {
            await subscription.close();
          }
        }),
      );

      test(
        'starting after the newest event delivers only what comes next; subscribe() with no position starts at the beginning',
        withStore(async (store) => {
          const stream = streamName('from-head');
          await store.append(stream, events(2), 'no_stream');
          const fromHead = store.subscribe(await store.headPosition());
          const fromStart = store.subscribe();
          try {
            const next = take(fromHead, [stream], 1);
            await store.append(stream, events(1, 2), 1);
            assert.deepEqual(
              (await next).map((e) => e.revision),
              [2],
            );
            assert.deepEqual(
              (await take(fromStart, [stream], 3)).map((e) => e.revision),
              [0, 1, 2],
            );
          } finally {
            await fromHead.close();
            await fromStart.close();
          }
        }),
      );

      test(
        'close() ends the iteration promptly, also for a consumer waiting for the next event',
        withStore(async (store) => {
          const stream = streamName('close');
          await store.append(stream, events(1), 'no_stream');
          const subscription = store.subscribe(await store.headPosition());
          const consumed: RecordedEvent[] = [];
          const consumer = (async () => {
            for await (const recorded of subscription) consumed.push(recorded);
          })();
          await new Promise((resolve) => setTimeout(resolve, 50)); // the consumer is waiting now
          const closedAt = Date.now();
          await subscription.close();
          await consumer;
          assert.ok(Date.now() - closedAt < 1000, 'iteration ended within a second of close()');
          assert.equal(consumed.filter((e) => e.stream === stream).length, 0);
          assert.deepEqual(await subscription[Symbol.asyncIterator]().next(), {
            value: undefined,
            done: true,
          });
          await subscription.close(); // closing twice is harmless
        }),
      );

      test(
        'breaking out of a for-await loop closes the subscription',
        withStore(async (store) => {
          const stream = streamName('break');
          const start = await store.headPosition();
          await store.append(stream, events(3), 'no_stream');
          const subscription = store.subscribe(start);
          for await (const recorded of subscription) if (recorded.stream === stream) break;
          assert.deepEqual(await subscription[Symbol.asyncIterator]().next(), {
            value: undefined,
            done: true,
          });
        }),
      );
    });
  });
}
