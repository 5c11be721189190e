import { Inject, Injectable } from '@nestjs/common';
import type { Decider, EventDraft, NewEvent, RecordedEvent } from '@custos/domain';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import { ProjectionsService } from '../projections/projections.module';
import { eventId } from './event-id';

/** Who, why and when: the context every command runs in. */
export interface CommandContext {
  /** Lower-case wallet address, or `system` / `chain`. */
  actor: string;
  correlationId: string;
  /** Defaults to the correlation id (a command straight from a request). */
  causationId?: string;
  now: Date;
}

export interface CommandOutcome<Event extends EventDraft> {
  events: Event[];
  /** Global position of the last event appended (or -1 when the command decided nothing). */
  position: number;
}

/** Adds ids and metadata to a decider's events. */
export function stamp<Event extends EventDraft>(
  events: readonly Event[],
  context: CommandContext,
): NewEvent[] {
  return events.map((event) => ({
    ...event,
    id: eventId(context.now),
    metadata: {
      actor: context.actor,
      correlationId: context.correlationId,
      causationId: context.causationId ?? context.correlationId,
      occurredAt: context.now.toISOString(),
    },
  }));
}

/** Streams whose folded state is kept between commands (the least recently used beyond it are dropped). */
export const FOLDED_STREAMS_KEPT = 1_000;

interface Folded {
  /** The decider's `evolve` and `initialState` the state was folded with. */
  evolve: unknown;
  initialState: unknown;
  state: unknown;
  revision: number;
}

/**
 * Load, decide, append: how every command handler runs a decider. The append expects the revision it
 * loaded, so two commands racing on one aggregate cannot both win (the loser gets ConcurrencyError,
 * answered 409). Afterwards it waits for the projections, so the caller reads its own writes.
 */
@Injectable()
export class AggregateRepository {
  /**
   * The last state folded per stream, and the revision it covers: a command reads and folds only the
   * events appended since (by anyone: this process or another), not the whole stream again. Folding a
   * whole stream each time grows with its length, and worse: an `evolve` that copies a map per event
   * (a conversation's messages, a patient's requests) made each command cost the square of it (a send
   * to a 1,000-message conversation took 240 ms, to a 4,000-message one 7 s). States are immutable
   * (deciders are pure), so one may be shared by concurrent commands.
   */
  private readonly folded = new Map<string, Folded>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionsService,
  ) {}

  async load<State, Event extends EventDraft>(
    decider: Decider<unknown, State, Event>,
    stream: string,
  ): Promise<{ state: State; revision: number | 'no_stream' }> {
    const cached = this.folded.get(stream);
    const usable = cached?.evolve === decider.evolve && cached.initialState === decider.initialState;
    const fromRevision = usable ? cached.revision + 1 : 0;
    const history = (await this.store.readStream(stream, {
      fromRevision,
    })) as RecordedEvent[] as unknown as (Event & RecordedEvent)[];
    const last = history[history.length - 1];
    let state = usable ? (cached.state as State) : decider.initialState;
    for (const event of history) state = decider.evolve(state, event);
    const revision = last ? last.revision : usable ? cached.revision : undefined;
    if (revision === undefined) return { state, revision: 'no_stream' };
    // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
    this.folded.delete(stream);
    this.folded.set(stream, { evolve: decider.evolve, initialState: decider.initialState, state, revision });
    if (this.folded.size > FOLDED_STREAMS_KEPT) this.folded.delete(this.folded.keys().next().value!);
    return { state, revision };
  }

  async execute<Command, State, Event extends EventDraft>(
    decider: Decider<Command, State, Event>,
    stream: string,
    command: Command,
    context: CommandContext,
  ): Promise<CommandOutcome<Event>> {
    const { state, revision } = await this.load(decider, stream);
    const events = decider.decide(command, state, context.now);
    if (events.length === 0) return { events, position: -1 };
    const { position } = await this.store.append(stream, stamp(events, context), revision);
    await this.projections.runner.caughtUp(position);
    return { events, position };
  }

  /** Appends events that need no decision (audit entries), without a concurrency check; waits for the views. */
  async record<Event extends EventDraft>(stream: string, events: readonly Event[], context: CommandContext) {
    const { position } = await this.store.append(stream, stamp(events, context), 'any');
    await this.projections.runner.caughtUp(position);
    return position;
  }
}
