import type { EventDraft } from './events';

/**
 * A decider: the whole behaviour of one aggregate as two pure functions over plain data.
 * `decide` turns a command into events (or throws a DomainError) given the state and the time;
 * `evolve` folds one event into the state. No I/O, no clock: `now` is an argument.
 */
export interface Decider<Command, State, Event extends EventDraft> {
  initialState: State;
  decide(command: Command, state: State, now: Date): Event[];
  evolve(state: State, event: Event): State;
}

/** Folds events into a state with a decider's `evolve`. */
export function fold<State, Event extends EventDraft>(
  decider: Pick<Decider<unknown, State, Event>, 'initialState' | 'evolve'>,
  events: Iterable<Event>,
): State {
  let state = decider.initialState;
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/**
 * Why a command was refused. `kind` tells the edge which status to answer: `invalid` 400,
 * `forbidden` 403, `not_found` 404, `conflict` 409.
 */
export type DomainErrorKind = 'invalid' | 'forbidden' | 'not_found' | 'conflict';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable machine-readable code, e.g. `request_already_pending`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (code: string, message: string) => new DomainError('invalid', code, message);
export const conflict = (code: string, message: string) => new DomainError('conflict', code, message);
export const notFound = (code: string, message: string) => new DomainError('not_found', code, message);
export const forbidden = (code: string, message: string) => new DomainError('forbidden', code, message);

/** Unix seconds of a Date: the chain's unit of time. */
export const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
