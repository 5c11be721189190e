import type { RecordedEvent } from '@custos/domain';
import type { EventStore, EventSubscription } from '../event-store/event-store.port';
import type { ReadModelStore } from '../read-models/read-model.port';
import type { Projection } from './projection';

export interface ProjectionLag {
  projection: string;
  /** Events in the store not yet applied. */
  events: number;
  /** Seconds since the oldest unapplied event was recorded (0 when caught up). */
  seconds: number;
}

export interface ProjectionRunnerOptions {
  /** Most events applied in one atomic unit. */
  batchSize?: number;
  /** Called after every applied unit, e.g. to export lag metrics. */
  onApplied?: (projection: string, position: number) => void;
  /** Called when a unit fails; the runner retries the same events after `retryDelayMs`. */
  onError?: (projection: string, error: unknown) => void;
  retryDelayMs?: number;
}

/**
 * Keeps projections up to date: each subscribes from its own checkpoint, applies events in batches,
 * and moves its checkpoint in the same atomic unit as its writes (ReadModelStore.applyAtomically), so a
 * crash never applies an event twice and never skips one.
 */
export class ProjectionRunner {
  private readonly workers = new Map<string, ProjectionWorker>();
  /** Callers of caughtUp waiting for a position, answered when the slowest projection reaches it. */
  private readonly waiters = new Set<PositionWaiter>();

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly projections: readonly Projection[],
    private readonly options: ProjectionRunnerOptions = {},
  ) {}

  async start(): Promise<void> {
    await this.readModels.register(this.projections.flatMap((p) => p.collections));
    for (const projection of this.projections) {
      const worker = new ProjectionWorker(projection, this.events, this.readModels, this.options, () =>
        this.advanced(),
      );
      this.workers.set(projection.name, worker);
      await worker.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }

  /**
   * Resolves once every projection has applied `position` (read-your-writes after a command). Called
   * after every command: one waiter and one timer per call, whatever the number of projections.
   */
  caughtUp(position: number, timeoutMs = 5_000): Promise<void> {
    if (this.slowest() >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: PositionWaiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const behind = [...this.workers.values()].filter((w) => w.position < position).map((w) => w.name);
        reject(
          new Error(
            `projection ${behind.join(', ') || '(stopped)'} did not reach position ${position} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** The position every projection has reached (Infinity without projections: nothing to wait for). */
  private slowest(): number {
    let slowest = Infinity;
    for (const worker of this.workers.values()) if (worker.position < slowest) slowest = worker.position;
    return slowest;
  }

  /** A projection moved on: answers the waiters that every projection has now passed. */
  private advanced(): void {
    if (this.waiters.size === 0) return;
    const slowest = this.slowest();
    for (const waiter of this.waiters) {
      if (slowest >= waiter.position) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  async lag(): Promise<ProjectionLag[]> {
    const head = await this.events.headPosition();
    return Promise.all(
      [...this.workers.values()].map(async (w) => ({
        projection: w.name,
        events: Math.max(0, head - w.position),
        seconds: await w.secondsBehind(head),
      })),
    );
  }
}

interface PositionWaiter {
  position: number;
  resolve: () => void;
}

class ProjectionWorker {
  position = -1;
  private subscription: EventSubscription | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  /** Events passed over since the checkpoint was last written (none of them concerned this projection). */
  private unsaved = 0;

  constructor(
    private readonly projection: Projection,
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly options: ProjectionRunnerOptions,
    /** Called whenever `position` moves on. */
    private readonly onAdvanced: () => void,
  ) {}

  get name(): string {
    return this.projection.name;
  }

  async start(): Promise<void> {
    this.position = await this.readModels.checkpoint(this.projection.name);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.loop;
    // Keep the position reached: events passed over are not read again at the next start.
    if (this.unsaved > 0) {
      await this.readModels.applyAtomically(this.projection.name, this.position, async () => {});
      this.unsaved = 0;
    }
  }

  async secondsBehind(head: number): Promise<number> {
    if (this.position >= head) return 0;
    for await (const next of this.events.readAll(this.position, { maxCount: 1 })) {
      return Math.max(0, (Date.now() - Date.parse(next.recordedAt)) / 1000);
    }
    return 0;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.consume();
      } catch (error) {
        this.options.onError?.(this.name, error);
        if (this.stopped) return;
        // Resubscribe from the checkpoint: the failed batch was rolled back and is read again.
        await new Promise((r) => setTimeout(r, this.options.retryDelayMs ?? 1_000));
        this.position = await this.readModels.checkpoint(this.projection.name);
      }
    }
  }

  private async consume(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    this.subscription = this.events.subscribe(this.position < 0 ? undefined : this.position);
    const iterator = this.subscription[Symbol.asyncIterator]();
    let batch: RecordedEvent[] = [];
    let pending: Promise<IteratorResult<RecordedEvent>> | undefined;
    // Settles once the event loop has run out of work at hand: one per batch, not one per event.
    let idle: Promise<typeof IDLE> | undefined;
    try {
      for (;;) {
        pending ??= iterator.next();
        // Take what is ready now; apply the batch once the subscription has nothing more at once. A
        // subscription that says so (`waiting`) lets the batch go at once, without waiting for the
        // event loop to come round (a whole round of requests) as the race below does.
        if (batch.length > 0 && isWaiting(this.subscription)) {
          await this.applyBatch(batch);
          batch = [];
          idle = undefined;
          continue;
        }
        // A subscription that tells when it waits has the event at hand when it does not: no race.
        const result =
          batch.length === 0 || tellsWaiting(this.subscription)
            ? await pending
            : await Promise.race([pending, (idle ??= afterPendingIo())]);
        if (result === IDLE) {
          await this.applyBatch(batch);
          batch = [];
          idle = undefined;
          continue;
        }
        pending = undefined;
        if (result.done) {
          await this.applyBatch(batch);
          return;
        }
        batch.push(result.value);
        if (batch.length >= batchSize) {
          await this.applyBatch(batch);
          batch = [];
          idle = undefined;
        }
      }
    } finally {
      await this.subscription.close();
    }
  }

  private async applyBatch(batch: RecordedEvent[]): Promise<void> {
    const last = batch[batch.length - 1];
    if (!last) return;
    const relevant = batch.filter((e) => this.projection.eventTypes.has(e.type));
    // A batch with nothing for this projection changes no document: the checkpoint is written only
    // every CHECKPOINT_EVERY such events (and at stop), not once per event per projection. After a
    // crash the passed-over events are read again and passed over again: same documents.
    if (relevant.length === 0 && this.unsaved + batch.length < CHECKPOINT_EVERY) {
      this.unsaved += batch.length;
    } else {
      await this.readModels.applyAtomically(this.projection.name, last.position, async (writer) => {
        for (const event of relevant) await this.projection.apply(event, writer);
      });
      this.unsaved = 0;
    }
    this.position = last.position;
    this.options.onApplied?.(this.name, last.position);
    this.onAdvanced();
  }
}

/** Events a projection may pass over before its checkpoint is written anyway. */
const CHECKPOINT_EVERY = 1_000;

/** Whether the subscription says when it waits for events not appended yet (SqliteEventStore's do). */
const tellsWaiting = (subscription: EventSubscription): boolean => 'waiting' in subscription;

/** Whether the subscription waits for events not appended yet (see tellsWaiting). */
const isWaiting = (subscription: EventSubscription): boolean =>
  (subscription as EventSubscription & { waiting?: boolean }).waiting === true;

const IDLE = Symbol('idle');
/** Settles after pending I/O callbacks, i.e. when no event is immediately available. */
const afterPendingIo = () => new Promise<typeof IDLE>((resolve) => setImmediate(() => resolve(IDLE)));
