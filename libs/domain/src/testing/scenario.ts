import assert from 'node:assert/strict';
import { type Decider, DomainError, fold } from '../decider';
import type { EventDraft } from '../events';

/**
 * Given-when-then for deciders: `scenario(decider).given(events).when(command, now).then(events)`
 * or `.thenError(code)`.
 */
export function scenario<Command, State, Event extends EventDraft>(decider: Decider<Command, State, Event>) {
  return {
    given(history: Event[] = []) {
      const state = fold(decider, history);
      return {
        when(command: Command, now: Date = new Date('2026-01-01T00:00:00Z')) {
          const run = () => decider.decide(command, state, now);
          return {
            then(expected: Event[]) {
              assert.deepEqual(run(), expected);
            },
            thenError(code: string, kind?: DomainError['kind']) {
              assert.throws(run, (error: unknown) => {
                assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
                assert.equal(error.code, code);
                if (kind) assert.equal(error.kind, kind);
                return true;
              });
            },
            state: () => fold(decider, [...history, ...run()]),
          };
        },
      };
    },
  };
}
