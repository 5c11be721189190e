/**
 * Event store benchmark: the SQLite event store against raw better-sqlite3 doing the same work on the
 * same schema and pragmas, in the same run (separate files, interleaved rounds, median of rounds).
 * Run with `npm run bench:store`. Exits 1 when a target is missed.
 *
 * - append, one event per append: our `append` vs a raw IMMEDIATE transaction that reads the stream's
 *   revision, checks it and inserts the row (JSON-encoding data and metadata).
 * - append, batches of 100: the same with 100 rows per transaction.
 * - readAll: our paged async iterator vs a raw paged SELECT decoding each row into an event object.
 *   Target for the three: ours ≥ 0.7 × raw.
 * - subscribe delivery latency: a subscriber on the live end while events are appended at a steady
 *   1,000 events/s for 5 s; time from the append call to the subscriber receiving the event.
 *   Target p99 ≤ 50 ms.
 * - projection lag: every projection applying live (SQLite read models) at the same rate; time from
 *   the append to the slowest projection having applied it. Target p99 ≤ 50 ms.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { accessAudited, AUDIT_STREAM, consentStream, type NewEvent } from '@custos/domain';
import { stamp } from '../apps/api/src/core/aggregate-repository';
import { ProjectionRunner } from '../apps/api/src/projections/projection-runner';
import { PROJECTIONS } from '../apps/api/src/projections/read-models';
import { SqliteReadModelStore } from '../apps/api/src/read-models/sqlite.read-model';
import Database from 'better-sqlite3';
import type { ExpectedRevision } from '../apps/api/src/event-store/event-store.port';
import {
  EVENTS_FILE_NAME,
  EVENTS_PRAGMAS,
  EVENTS_SCHEMA,
  type EventRow,
  SqliteEventStore,
  toRecordedEvent,
} from '../apps/api/src/event-store/sqlite.event-store';
import { median, percentile, sleep } from './stats';

const STREAMS = 100;
const ROUNDS = 5;
const SINGLE_APPENDS_PER_ROUND = 4_000;
const BATCH_SIZE = 100;
const BATCHES_PER_ROUND = 150;
const PAGE_SIZE = 1000;
const RATIO_TARGET = 0.7;
const LIVE_RATE_PER_SECOND = 1_000;
const LIVE_SECONDS = 5;
const LATENCY_P99_TARGET_MS = 50;

// ---------------------------------------------------------------------------
// Workload: realistic consent events, identical for both sides.
// ---------------------------------------------------------------------------

let sequence = 0;
function makeEvent(): NewEvent {
  sequence += 1;
  return {
    id: `0x${sequence.toString(16).padStart(64, '0')}:${sequence % 7}`,
    type: 'ConsentGranted',
    version: 1,
    data: {
      patient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
      provider: '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
      category: 'lab-results',
      purpose: 'treatment',
      expiresAt: '2026-01-01T00:00:00.000Z',
      seq: sequence,
    },
    metadata: {
      actor: 'chain',
      correlationId: `corr-${sequence}`,
      causationId: `cause-${sequence}`,
      occurredAt: '2025-03-01T12:00:00.000Z',
      chain: { chainId: 31337, blockNumber: sequence, blockHash: '0x01', txHash: '0x02', logIndex: 0 },
    },
  };
}

/** Tracks each stream's revision so every append states its exact expected revision. */
class Streams {
  private readonly revisions = new Array<number>(STREAMS).fill(-1);
  private next = 0;

  pick(): { stream: string; expected: ExpectedRevision; index: number } {
    const index = this.next++ % STREAMS;
    const revision = this.revisions[index] as number;
    return { stream: `consent-${index}`, expected: revision < 0 ? 'no_stream' : revision, index };
  }

  advance(index: number, revision: number): void {
    this.revisions[index] = revision;
  }
}

// ---------------------------------------------------------------------------
// The baseline: raw better-sqlite3, same schema, same pragmas, same work.
// ---------------------------------------------------------------------------

class RawStore {
  private readonly db: Database.Database;
  private readonly selectTip: Database.Statement<[string], { revision: number }>;
  private readonly insert: Database.Statement<
    [string, number, string, string, number, string, string, string]
  >;
  private readonly selectAfter: Database.Statement<[number, number], EventRow>;
  readonly append: (stream: string, events: readonly NewEvent[], expected: ExpectedRevision) => number;

  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, EVENTS_FILE_NAME));
    for (const pragma of EVENTS_PRAGMAS) this.db.pragma(pragma);
    this.db.exec(EVENTS_SCHEMA);
    this.selectTip = this.db.prepare(
      'SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
    );
    this.insert = this.db.prepare(
      'INSERT INTO events (stream, revision, id, type, version, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectAfter = this.db.prepare(
      'SELECT position, stream, revision, id, type, version, data, metadata, recorded_at FROM events WHERE position > ? ORDER BY position LIMIT ?',
    );
    this.append = this.db.transaction(
      (stream: string, events: readonly NewEvent[], expected: ExpectedRevision) => {
        const current = this.selectTip.get(stream)?.revision ?? -1;
        if (expected === 'no_stream' ? current !== -1 : expected !== 'any' && expected !== current)
          throw new Error('conflict');
        const recordedAt = new Date().toISOString();
        let revision = current;
        for (const event of events) {
          revision += 1;
          this.insert.run(
            stream,
            revision,
            event.id,
            event.type,
            event.version,
            JSON.stringify(event.data),
            JSON.stringify(event.metadata),
            recordedAt,
          );
        }
        return revision;
      },
    ).immediate;
  }

  /** Reads every event in pages, decoding rows the way an event store must. Returns the count. */
  readAll(): number {
    let after = -1;
    let count = 0;
    for (;;) {
      const rows = this.selectAfter.all(after, PAGE_SIZE);
      for (const row of rows) {
        // The same row decoding as the adapter: the comparison is about the access path.
        const event = toRecordedEvent(row);
        after = event.position;
        count += 1;
      }
      if (rows.length < PAGE_SIZE) return count;
    }
  }

  close(): void {
    this.db.close();
  }
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

interface Side {
  ours: SqliteEventStore;
  raw: RawStore;
  oursStreams: Streams;
  rawStreams: Streams;
}

async function oursAppend(side: Side, appends: number, batchSize: number): Promise<number> {
  const batches = Array.from({ length: appends }, () => Array.from({ length: batchSize }, makeEvent));
  const started = performance.now();
  for (const batch of batches) {
    const { stream, expected, index } = side.oursStreams.pick();
    side.oursStreams.advance(index, (await side.ours.append(stream, batch, expected)).revision);
  }
  return (appends * batchSize) / ((performance.now() - started) / 1000);
}

function rawAppend(side: Side, appends: number, batchSize: number): number {
  const batches = Array.from({ length: appends }, () => Array.from({ length: batchSize }, makeEvent));
  const started = performance.now();
  for (const batch of batches) {
    const { stream, expected, index } = side.rawStreams.pick();
    side.rawStreams.advance(index, side.raw.append(stream, batch, expected));
  }
  return (appends * batchSize) / ((performance.now() - started) / 1000);
}

async function oursReadAll(side: Side): Promise<{ rate: number; count: number }> {
  const started = performance.now();
  let count = 0;
  for await (const _event of side.ours.readAll()) count += 1;
  return { rate: count / ((performance.now() - started) / 1000), count };
}

function rawReadAll(side: Side): { rate: number; count: number } {
  const started = performance.now();
  const count = side.raw.readAll();
  return { rate: count / ((performance.now() - started) / 1000), count };
}

/** Rounds alternate which side goes first, so neither always runs on a warmer cache. */
async function compare(
  rounds: number,
  ours: () => Promise<number>,
  raw: () => number,
): Promise<{ ours: number; raw: number }> {
  const oursRates: number[] = [];
  const rawRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      rawRates.push(raw());
      oursRates.push(await ours());
    } else {
      oursRates.push(await ours());
      rawRates.push(raw());
    }
  }
  return { ours: median(oursRates), raw: median(rawRates) };
}

/** Appends at a steady rate while a live subscriber timestamps each arrival. */
async function deliveryLatency(
  store: SqliteEventStore,
): Promise<{ p50: number; p99: number; max: number; rate: number }> {
  const total = LIVE_RATE_PER_SECOND * LIVE_SECONDS;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const subscription = store.subscribe(await store.headPosition());
  const consumer = (async () => {
    for await (const event of subscription) {
      const seq = (event.data as { seq: number }).seq;
      const sent = sentAt.get(seq);
      if (sent !== undefined) latencies.push(performance.now() - sent);
      if (latencies.length === total) break;
    }
  })();

  const streams = new Streams();
  const started = performance.now();
  const intervalMs = 1000 / LIVE_RATE_PER_SECOND;
  for (let sent = 0; sent < total;) {
    const due = started + sent * intervalMs;
    const now = performance.now();
    if (now < due) {
      await sleep(due - now);
      continue;
    }
    const event = makeEvent();
    const { stream, expected, index } = streams.pick();
    sentAt.set((event.data as { seq: number }).seq, performance.now());
    streams.advance(index, (await store.append(`live-${stream}`, [event], expected)).revision);
    sent += 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  await Promise.race([consumer, sleep(5_000)]);
  await subscription.close();
  if (latencies.length < total) throw new Error(`only ${latencies.length} of ${total} events were delivered`);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
    rate: total / elapsed,
  };
}

// ---------------------------------------------------------------------------

interface ResultRow {
  scenario: string;
  ours: string;
  raw: string;
  ratio: string;
  target: string;
  pass: boolean;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function printTable(rows: ResultRow[]): void {
  const header = {
    scenario: 'scenario',
    ours: 'ours',
    raw: 'raw better-sqlite3',
    ratio: 'ratio',
    target: 'target',
  };
  const widths = {
    scenario: Math.max(header.scenario.length, ...rows.map((r) => r.scenario.length)),
    ours: Math.max(header.ours.length, ...rows.map((r) => r.ours.length)),
    raw: Math.max(header.raw.length, ...rows.map((r) => r.raw.length)),
    ratio: Math.max(header.ratio.length, ...rows.map((r) => r.ratio.length)),
    target: Math.max(header.target.length, ...rows.map((r) => r.target.length)),
  };
  const line = (r: Omit<ResultRow, 'pass'>, result: string) =>
    `${r.scenario.padEnd(widths.scenario)}  ${r.ours.padStart(widths.ours)}  ${r.raw.padStart(widths.raw)}  ${r.ratio.padStart(widths.ratio)}  ${r.target.padEnd(widths.target)}  ${result}`;
  console.log(line(header, 'result'));
  console.log('-'.repeat(line(header, 'result').length));
  for (const row of rows) console.log(line(row, row.pass ? 'PASS' : 'FAIL'));
}

/**
 * Projection lag: every projection runs live (SQLite read models) while consent facts and audit
 * entries are appended at a steady rate; an event's lag is the time from its append until the slowest
 * projection has applied it.
 */
async function projectionLag(
  dataDir: string,
): Promise<{ p50: number; p99: number; max: number; rate: number }> {
  // A fresh store: the projections start caught up, as in a running API.
  const store = new SqliteEventStore({ dataDir });
  const readModels = await SqliteReadModelStore.open(dataDir);
  const applied = new Map<string, { position: number; at: number }[]>();
  const runner = new ProjectionRunner(store, readModels, PROJECTIONS, {
    onApplied: (projection, position) => {
      const list = applied.get(projection) ?? [];
      list.push({ position, at: performance.now() });
      applied.set(projection, list);
    },
  });
  await runner.start();
  const total = LIVE_RATE_PER_SECOND * LIVE_SECONDS;
  const sent: { position: number; at: number }[] = [];
  const started = performance.now();
  const intervalMs = 1000 / LIVE_RATE_PER_SECOND;
  for (let i = 0; i < total;) {
    const due = started + i * intervalMs;
    const now = performance.now();
    if (now < due) {
      await sleep(due - now);
      continue;
    }
    const patient = `0x${(i % 97).toString(16).padStart(40, '0')}`;
    const provider = `0x${(1000 + (i % 13)).toString(16).padStart(40, '0')}`;
    const draft =
      i % 2 === 0
        ? {
            type: 'ConsentGranted',
            version: 1,
            data: { patient, provider, category: 'lab_results', expiresAt: 2e9 + i },
          }
        : accessAudited({
            actor: provider,
            patient,
            resource: 'consents',
            action: 'read',
            purpose: null,
            outcome: 'allowed',
            reason: 'active grant',
          });
    const stream = draft.type === 'ConsentGranted' ? consentStream(patient) : AUDIT_STREAM;
    const at = performance.now();
    const { position } = await store.append(
      stream,
      stamp([draft], { actor: provider, correlationId: `bench-${i}`, now: new Date() }),
      'any',
    );
    sent.push({ position, at });
    i += 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  await runner.caughtUp(sent[sent.length - 1]!.position, 10_000);
  await runner.stop();
  await readModels.close();
  await store.close();

  // When a projection first reached a position: the first applied unit at or past it.
  const appliedAt = (list: { position: number; at: number }[], position: number) => {
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.position >= position) hi = mid;
      else lo = mid + 1;
    }
    return list[lo]!.at;
  };
  const lags = sent.map(({ position, at }) =>
    Math.max(...[...applied.values()].map((list) => appliedAt(list, position) - at)),
  );
  return {
    p50: percentile(lags, 50),
    p99: percentile(lags, 99),
    max: Math.max(...lags),
    rate: total / elapsed,
  };
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'custos-bench-store-'));
  const oursDir = path.join(root, 'ours');
  const rawDir = path.join(root, 'raw');
  mkdirSync(rawDir);
  const side: Side = {
    ours: new SqliteEventStore({ dataDir: oursDir, pageSize: PAGE_SIZE }),
    raw: new RawStore(rawDir),
    oursStreams: new Streams(),
    rawStreams: new Streams(),
  };
  const benchStarted = performance.now();
  try {
    console.log(
      `Event store benchmark: SQLite adapter vs raw better-sqlite3 (same schema, WAL, synchronous=NORMAL), Node ${process.version}`,
    );
    console.log(
      `Median of ${ROUNDS} interleaved rounds; ${STREAMS} streams; events are ~550-byte consent facts.\n`,
    );

    // Warm-up: JIT both code paths before measuring.
    await oursAppend(side, 500, 1);
    rawAppend(side, 500, 1);
    await oursAppend(side, 20, BATCH_SIZE);
    rawAppend(side, 20, BATCH_SIZE);

    const single = await compare(
      ROUNDS,
      () => oursAppend(side, SINGLE_APPENDS_PER_ROUND, 1),
      () => rawAppend(side, SINGLE_APPENDS_PER_ROUND, 1),
    );
    const batched = await compare(
      ROUNDS,
      () => oursAppend(side, BATCHES_PER_ROUND, BATCH_SIZE),
      () => rawAppend(side, BATCHES_PER_ROUND, BATCH_SIZE),
    );
    let oursCount = 0;
    let rawCount = 0;
    const read = await compare(
      ROUNDS,
      async () => {
        const result = await oursReadAll(side);
        oursCount = result.count;
        return result.rate;
      },
      () => {
        const result = rawReadAll(side);
        rawCount = result.count;
        return result.rate;
      },
    );
    if (oursCount !== rawCount) throw new Error(`readAll counts differ: ours ${oursCount}, raw ${rawCount}`);

    const latency = await deliveryLatency(side.ours);
    const lag = await projectionLag(path.join(root, 'projections'));

    const ratioRow = (scenario: string, r: { ours: number; raw: number }): ResultRow => {
      const ratio = r.ours / r.raw;
      return {
        scenario,
        ours: `${fmt(r.ours)} ev/s`,
        raw: `${fmt(r.raw)} ev/s`,
        ratio: ratio.toFixed(2),
        target: `≥ ${RATIO_TARGET.toFixed(2)}`,
        pass: ratio >= RATIO_TARGET,
      };
    };
    const rows: ResultRow[] = [
      ratioRow('append, 1 event per append', single),
      ratioRow(`append, batches of ${BATCH_SIZE}`, batched),
      ratioRow(`readAll (${fmt(oursCount)} events)`, read),
      {
        scenario: `subscribe delivery latency p50 / p99 at ${fmt(latency.rate)} ev/s for ${LIVE_SECONDS} s`,
        ours: `${latency.p50.toFixed(2)} / ${latency.p99.toFixed(2)} ms`,
        raw: '—',
        ratio: '—',
        target: `p99 ≤ ${LATENCY_P99_TARGET_MS} ms`,
        pass: latency.p99 <= LATENCY_P99_TARGET_MS,
      },
      {
        scenario: `projection lag p50 / p99, all projections, at ${fmt(lag.rate)} ev/s for ${LIVE_SECONDS} s`,
        ours: `${lag.p50.toFixed(2)} / ${lag.p99.toFixed(2)} ms`,
        raw: '—',
        ratio: '—',
        target: `p99 ≤ ${LATENCY_P99_TARGET_MS} ms`,
        pass: lag.p99 <= LATENCY_P99_TARGET_MS,
      },
    ];
    printTable(rows);
    console.log(
      `\n(max delivery latency ${latency.max.toFixed(2)} ms, max projection lag ${lag.max.toFixed(2)} ms; bench took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s)`,
    );
    const failed = rows.filter((r) => !r.pass);
    if (failed.length > 0) {
      console.log(`\n${failed.length} target(s) missed: ${failed.map((r) => r.scenario).join('; ')}`);
      process.exitCode = 1;
    } else {
      console.log('\nAll targets met.');
    }
  } finally {
    await side.ours.close();
    side.raw.close();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
