import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type Decider, type EventDraft, fold, type NewEvent, type RecordedEvent } from '@custos/domain';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import { ProjectionsService } from '../projections/projections.module';

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
    id: randomUUID(),
    metadata: {
      actor: context.actor,
      correlationId: context.correlationId,
      causationId: context.causationId ?? context.correlationId,
      occurredAt: context.now.toISOString(),
    },
  }));
}

/**
 * Load, decide, append: how every command handler runs a decider. The append expects the revision it
 * loaded, so two commands racing on one aggregate cannot both win (the loser gets ConcurrencyError,
 * answered 409). Afterwards it waits for the projections, so the caller reads its own writes.
 */
@Injectable()
export class AggregateRepository {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionsService,
  ) {}

  async load<State, Event extends EventDraft>(
    decider: Decider<unknown, State, Event>,
    stream: string,
  ): Promise<{ state: State; revision: number | 'no_stream' }> {
    const history = (await this.store.readStream(stream)) as RecordedEvent[] as unknown as (Event &
      RecordedEvent)[];
    const last = history[history.length - 1];
    return { state: fold(decider, history), revision: last ? last.revision : 'no_stream' };
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
